"""Genius (XML) and GeniusWeb (JSON) negotiation domains, as Backchannel cases.

* :mod:`.folder`: a domain folder (or one GeniusWeb profile) read as one case; file
  roles are found from the content;
* :mod:`.xml_domain`: safe XML parsing with line numbers, the domain file, profile
  headers; :mod:`.additive` and :mod:`.rectangles`: the two kinds of XML profile;
* :mod:`.geniusweb`: GeniusWeb JSON domains and profiles;
* :mod:`.common`: what the readers share (issues, located error collection);
* :mod:`.export`: a case written as a Genius XML domain folder.
"""
