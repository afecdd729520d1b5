/*
 * powercut_shim.c: an LD_PRELOAD library that keeps, beside one folder, the content that
 * folder would hold after a power cut (see benchmarks/powercut.py, which compiles it into
 * a temporary folder, and docs/explanation/durability.md, which justifies the model).
 *
 * The process runs on the real files; the shim only keeps books. POWERCUT_DIR names the
 * watched folder (an absolute, resolved path, flat: no sub-folders); POWERCUT_SHADOW a
 * folder outside it that the shim writes to:
 *
 *   blobs/<id>  the durable content of file object <id>: as of its last fsync/fdatasync;
 *   names       the durable directory: "<id>\t<name>" lines, as of the last fsync of the
 *               folder itself (creations, unlinks and renames are durable only then);
 *   live        the live directory, rewritten at each creation, unlink and rename;
 *   violations  a line per operation the model does not cover (a shared writable mmap of
 *               a file other than SQLite's -shm, a name with a '/', a rename across the
 *               folder's edge).
 *
 * A "file object" is what an inode is to the kernel: created by open(O_CREAT) of a missing
 * name, bound to a name until unlink or rename. Writes (write, pwrite, writev, pwritev,
 * ftruncate, open with O_TRUNC) mark byte ranges dirty; fsync or fdatasync on any
 * descriptor of the object copies the dirty ranges from the live file into its blob and
 * sets the blob's size. The real fsync is not called: this machine does not lose power,
 * and what the shadow holds is, by construction, what a disk that honours fsync holds.
 * At a cut the caller SIGKILLs the process and rebuilds the folder from names + blobs.
 *
 * The shadow starts with names and blobs written by the caller (the files present before
 * the process started, all of them durable). Bookkeeping is under one mutex; the real I/O
 * is not, except while an fsync copies ranges.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536
#define NAME_MAX_LEN 256
#define ID_LEN 48
#define FD_NONE (-1)
#define FD_DIR (-2)

typedef struct {
    off_t start, end;
} range_t;

typedef struct {
    char id[ID_LEN];
    char name[NAME_MAX_LEN]; /* "" once unlinked or renamed away */
    range_t *dirty;
    size_t n_dirty, cap_dirty;
    off_t min_size; /* smallest size since the last sync (truncations); -1: none */
} object_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char watched[PATH_MAX], shadow[2048];
static size_t watched_len;
static int active;
static object_t *objects;
static size_t n_objects, cap_objects;
static int fd_object[MAX_FDS]; /* object index, FD_NONE or FD_DIR */
static unsigned long counter;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off_t);

static void note_violation(const char *what, const char *detail);
static void load_names(void);

__attribute__((constructor)) static void init(void) {
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwritev = dlsym(RTLD_NEXT, "pwritev");
    real_pread = dlsym(RTLD_NEXT, "pread");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_close = dlsym(RTLD_NEXT, "close");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
    real_rename = dlsym(RTLD_NEXT, "rename");
    real_renameat = dlsym(RTLD_NEXT, "renameat");
    real_mmap = dlsym(RTLD_NEXT, "mmap");
    real_mmap64 = dlsym(RTLD_NEXT, "mmap64");
    for (int k = 0; k < MAX_FDS; k++) fd_object[k] = FD_NONE;
    const char *dir = getenv("POWERCUT_DIR"), *sh = getenv("POWERCUT_SHADOW");
    if (dir == NULL || sh == NULL || strlen(dir) + 2 > sizeof watched || strlen(sh) + 2 > sizeof shadow)
        return;
    strcpy(watched, dir);
    strcpy(shadow, sh);
    watched_len = strlen(watched);
    load_names();
    active = 1;
}

/* ------------------------------------------------------------------ shadow files */

static void shadow_path(char *out, const char *leaf) {
    snprintf(out, PATH_MAX, "%s/%s", shadow, leaf);
}

static void write_whole(const char *leaf, const char *text, size_t length) {
    char tmp[PATH_MAX], final[PATH_MAX];
    snprintf(tmp, PATH_MAX, "%s/%s.tmp", shadow, leaf);
    shadow_path(final, leaf);
    int fd = real_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    size_t done = 0;
    while (done < length) {
        ssize_t n = real_write(fd, text + done, length - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
    real_close(fd);
    real_rename(tmp, final); /* atomic: the caller reads the old or the new listing */
}

static void note_violation(const char *what, const char *detail) {
    char path[PATH_MAX], line[PATH_MAX + 64];
    shadow_path(path, "violations");
    int fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    int n = snprintf(line, sizeof line, "%s %s\n", what, detail);
    if (n > 0) real_write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    real_close(fd);
}

static object_t *add_object(const char *id, const char *name) {
    if (n_objects == cap_objects) {
        cap_objects = cap_objects ? 2 * cap_objects : 16;
        objects = realloc(objects, cap_objects * sizeof *objects);
    }
    object_t *o = &objects[n_objects++];
    memset(o, 0, sizeof *o);
    snprintf(o->id, ID_LEN, "%s", id);
    snprintf(o->name, NAME_MAX_LEN, "%s", name);
    o->min_size = -1;
    return o;
}

static void load_names(void) {
    char path[PATH_MAX], line[ID_LEN + NAME_MAX_LEN + 4];
    shadow_path(path, "names");
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *tab = strchr(line, '\t');
        if (tab == NULL) continue;
        *tab = '\0';
        line[strcspn(tab + 1, "\n") + (size_t)(tab + 1 - line)] = '\0';
        add_object(line, tab + 1);
    }
    fclose(f);
}

static void write_listing(const char *leaf) {
    size_t cap = n_objects * (ID_LEN + NAME_MAX_LEN + 2) + 1, used = 0;
    char *text = malloc(cap);
    if (text == NULL) return;
    for (size_t k = 0; k < n_objects; k++)
        if (objects[k].name[0] != '\0')
            used += (size_t)snprintf(text + used, cap - used, "%s\t%s\n", objects[k].id,
                                     objects[k].name);
    write_whole(leaf, text, used);
    free(text);
}

/* ------------------------------------------------------------------ paths */

/* The name inside the watched folder ("" for the folder itself), or NULL if outside. */
static const char *watched_name(int dirfd, const char *path, char *buffer) {
    char full[2 * PATH_MAX + 2];
    if (path == NULL) return NULL;
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (getcwd(base, sizeof base) == NULL) return NULL;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof base - 1);
            if (n < 0) return NULL;
            base[n] = '\0';
        }
        snprintf(full, sizeof full, "%s/%s", base, path);
    }
    size_t n = strlen(full);
    while (n > 1 && full[n - 1] == '/') full[--n] = '\0';
    if (strncmp(full, watched, watched_len) != 0) return NULL;
    if (full[watched_len] == '\0') {
        buffer[0] = '\0';
        return buffer;
    }
    if (full[watched_len] != '/') return NULL;
    snprintf(buffer, NAME_MAX_LEN, "%s", full + watched_len + 1);
    if (strchr(buffer, '/') != NULL) {
        note_violation("nested-path", full);
        return NULL;
    }
    return buffer;
}

static object_t *by_name(const char *name) {
    for (size_t k = 0; k < n_objects; k++)
        if (strcmp(objects[k].name, name) == 0) return &objects[k];
    return NULL;
}

static object_t *of_fd(int fd) {
    if (fd < 0 || fd >= MAX_FDS || fd_object[fd] < 0) return NULL;
    return &objects[fd_object[fd]];
}

/* ------------------------------------------------------------------ bookkeeping */

static void mark(object_t *o, off_t start, off_t end) {
    if (end <= start) return;
    if (o->n_dirty > 0) {
        range_t *last = &o->dirty[o->n_dirty - 1];
        if (start <= last->end && end >= last->start) { /* overlaps or touches the last */
            if (start < last->start) last->start = start;
            if (end > last->end) last->end = end;
            return;
        }
    }
    if (o->n_dirty == o->cap_dirty) {
        o->cap_dirty = o->cap_dirty ? 2 * o->cap_dirty : 64;
        o->dirty = realloc(o->dirty, o->cap_dirty * sizeof *o->dirty);
    }
    o->dirty[o->n_dirty++] = (range_t){start, end};
}

static void truncated(object_t *o, off_t size) {
    if (o->min_size < 0 || size < o->min_size) o->min_size = size;
}

static void after_open(int fd, const char *name, int flags, int created) {
    if (fd < 0 || fd >= MAX_FDS) return;
    pthread_mutex_lock(&lock);
    if (name[0] == '\0') {
        fd_object[fd] = FD_DIR;
    } else {
        object_t *o = by_name(name);
        if (o == NULL || created) {
            char id[ID_LEN];
            if (o != NULL) o->name[0] = '\0';
            snprintf(id, ID_LEN, "%d-%lu", (int)getpid(), ++counter);
            o = add_object(id, name);
            write_listing("live");
        }
        if (flags & O_TRUNC) truncated(o, 0);
        fd_object[fd] = (int)(o - objects);
    }
    pthread_mutex_unlock(&lock);
}

static int sync_object(int fd) {
    pthread_mutex_lock(&lock);
    if (fd >= 0 && fd < MAX_FDS && fd_object[fd] == FD_DIR) {
        write_listing("names");
        pthread_mutex_unlock(&lock);
        return 0;
    }
    object_t *o = of_fd(fd);
    if (o == NULL) {
        pthread_mutex_unlock(&lock);
        return -2; /* not ours */
    }
    char path[PATH_MAX], leaf[ID_LEN + 8];
    snprintf(leaf, sizeof leaf, "blobs/%s", o->id);
    shadow_path(path, leaf);
    int blob = real_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct stat live;
    int result = -1;
    if (blob >= 0 && fstat(fd, &live) == 0) {
        static char buffer[1 << 16];
        if (o->min_size >= 0) real_ftruncate(blob, o->min_size);
        for (size_t k = 0; k < o->n_dirty; k++) {
            for (off_t at = o->dirty[k].start; at < o->dirty[k].end;) {
                size_t want = (size_t)(o->dirty[k].end - at);
                if (want > sizeof buffer) want = sizeof buffer;
                ssize_t got = real_pread(fd, buffer, want, at);
                if (got <= 0) break; /* beyond the end: truncated since */
                real_pwrite(blob, buffer, (size_t)got, at);
                at += got;
            }
        }
        real_ftruncate(blob, live.st_size);
        o->n_dirty = 0;
        o->min_size = -1;
        result = 0;
    }
    if (blob >= 0) real_close(blob);
    pthread_mutex_unlock(&lock);
    if (result != 0) errno = EIO;
    return result;
}

/* ------------------------------------------------------------------ interposed calls */

static int open_common(int dirfd, const char *path, int flags, mode_t mode, int which) {
    char buffer[NAME_MAX_LEN];
    const char *name = active ? watched_name(dirfd, path, buffer) : NULL;
    int existed = 1;
    if (name != NULL && name[0] != '\0' && (flags & O_CREAT)) {
        struct stat st;
        existed = fstatat(dirfd, path, &st, 0) == 0; /* dirfd is ignored for absolute paths */
    }
    int fd;
    switch (which) {
    case 0: fd = real_open(path, flags, mode); break;
    case 1: fd = real_open64(path, flags, mode); break;
    case 2: fd = real_openat(dirfd, path, flags, mode); break;
    default: fd = real_openat64(dirfd, path, flags, mode); break;
    }
    if (fd >= 0 && name != NULL) {
        int saved = errno;
        after_open(fd, name, flags, !existed);
        errno = saved;
    }
    return fd;
}

static mode_t mode_of(int flags, va_list ap) {
    return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, 0);
}

int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, 1);
}

int __open_2(const char *path, int flags) { return open_common(AT_FDCWD, path, flags, 0, 0); }

int __open64_2(const char *path, int flags) { return open_common(AT_FDCWD, path, flags, 0, 1); }

int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, 2);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, 3);
}

static void wrote(int fd, off_t start, ssize_t n) {
    if (n <= 0 || !active) return;
    pthread_mutex_lock(&lock);
    object_t *o = of_fd(fd);
    if (o != NULL) mark(o, start, start + n);
    pthread_mutex_unlock(&lock);
}

static int watched_fd(int fd) {
    return active && fd >= 0 && fd < MAX_FDS && fd_object[fd] >= 0;
}

ssize_t write(int fd, const void *data, size_t size) {
    ssize_t n = real_write(fd, data, size);
    if (n > 0 && watched_fd(fd)) {
        int saved = errno;
        off_t end = lseek(fd, 0, SEEK_CUR); /* after the write, also with O_APPEND */
        if (end >= 0) wrote(fd, end - n, n);
        errno = saved;
    }
    return n;
}

ssize_t pwrite(int fd, const void *data, size_t size, off_t offset) {
    ssize_t n = real_pwrite(fd, data, size, offset);
    wrote(fd, offset, n);
    return n;
}

ssize_t pwrite64(int fd, const void *data, size_t size, off_t offset) {
    ssize_t n = real_pwrite64(fd, data, size, offset);
    wrote(fd, offset, n);
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    ssize_t n = real_writev(fd, iov, count);
    if (n > 0 && watched_fd(fd)) {
        int saved = errno;
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (end >= 0) wrote(fd, end - n, n);
        errno = saved;
    }
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t offset) {
    ssize_t n = real_pwritev(fd, iov, count, offset);
    wrote(fd, offset, n);
    return n;
}

static int truncate_common(int fd, off_t size, int (*real)(int, off_t)) {
    int r = real(fd, size);
    if (r == 0 && active) {
        pthread_mutex_lock(&lock);
        object_t *o = of_fd(fd);
        if (o != NULL) truncated(o, size);
        pthread_mutex_unlock(&lock);
    }
    return r;
}

int ftruncate(int fd, off_t size) { return truncate_common(fd, size, real_ftruncate); }

int ftruncate64(int fd, off_t size) { return truncate_common(fd, size, real_ftruncate64); }

int fsync(int fd) {
    if (!active) return real_fsync(fd);
    int r = sync_object(fd);
    return r == -2 ? real_fsync(fd) : r;
}

int fdatasync(int fd) {
    if (!active) return real_fdatasync(fd);
    int r = sync_object(fd);
    return r == -2 ? real_fdatasync(fd) : r;
}

int close(int fd) {
    if (active && fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&lock);
        fd_object[fd] = FD_NONE; /* before the real close: the number may be reused at once */
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

static void unbind(const char *name) {
    pthread_mutex_lock(&lock);
    object_t *o = by_name(name);
    if (o != NULL) {
        o->name[0] = '\0';
        write_listing("live");
    }
    pthread_mutex_unlock(&lock);
}

int unlink(const char *path) {
    char buffer[NAME_MAX_LEN];
    const char *name = active ? watched_name(AT_FDCWD, path, buffer) : NULL;
    int r = real_unlink(path);
    if (r == 0 && name != NULL && name[0] != '\0') unbind(name);
    return r;
}

int unlinkat(int dirfd, const char *path, int flags) {
    char buffer[NAME_MAX_LEN];
    const char *name = active ? watched_name(dirfd, path, buffer) : NULL;
    int r = real_unlinkat(dirfd, path, flags);
    if (r == 0 && name != NULL && name[0] != '\0') unbind(name);
    return r;
}

static void renamed(const char *from, const char *to, const char *full_to) {
    if (from == NULL && to == NULL) return;
    if (from == NULL || to == NULL || from[0] == '\0' || to[0] == '\0') {
        note_violation("rename-across-edge", full_to);
        if (from != NULL && from[0] != '\0') unbind(from);
        return;
    }
    pthread_mutex_lock(&lock);
    object_t *target = by_name(to), *source = by_name(from);
    if (target != NULL) target->name[0] = '\0';
    if (source != NULL) snprintf(source->name, NAME_MAX_LEN, "%s", to);
    write_listing("live");
    pthread_mutex_unlock(&lock);
}

int rename(const char *from, const char *to) {
    char b1[NAME_MAX_LEN], b2[NAME_MAX_LEN];
    const char *f = active ? watched_name(AT_FDCWD, from, b1) : NULL;
    const char *t = active ? watched_name(AT_FDCWD, to, b2) : NULL;
    int r = real_rename(from, to);
    if (r == 0 && active) renamed(f, t, to);
    return r;
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
    char b1[NAME_MAX_LEN], b2[NAME_MAX_LEN];
    const char *f = active ? watched_name(fromfd, from, b1) : NULL;
    const char *t = active ? watched_name(tofd, to, b2) : NULL;
    int r = real_renameat(fromfd, from, tofd, to);
    if (r == 0 && active) renamed(f, t, to);
    return r;
}

static void check_map(int prot, int flags, int fd) {
    if (!watched_fd(fd) || !(prot & PROT_WRITE) || !(flags & MAP_SHARED)) return;
    pthread_mutex_lock(&lock);
    object_t *o = of_fd(fd);
    size_t n = o != NULL ? strlen(o->name) : 0;
    int shm = n > 4 && strcmp(o->name + n - 4, "-shm") == 0;
    if (o != NULL && !shm) note_violation("shared-writable-mmap", o->name);
    pthread_mutex_unlock(&lock);
}

void *mmap(void *at, size_t size, int prot, int flags, int fd, off_t offset) {
    check_map(prot, flags, fd);
    return real_mmap(at, size, prot, flags, fd, offset);
}

void *mmap64(void *at, size_t size, int prot, int flags, int fd, off_t offset) {
    check_map(prot, flags, fd);
    return real_mmap64(at, size, prot, flags, fd, offset);
}
