"""Small documents the format tests share."""

TWO_OPTIONS_CASE = """\
title: Two options
issues:
  - name: a
    options: [x, y]
parties:
  - name: P
    weights: {a: 1}
    ratings: {a: {x: 0, y: 100}}
  - name: Q
    weights: {a: 1}
    ratings: {a: {x: 100, y: 0}}
"""
