"""Maps: folium maps that work without any CDN, and the route layers drawn on them.

`maps` may read `routes` but never `tracking`. Building a map is pure (routes in, a folium
map out); only the vendored Leaflet files are read from the installed xstatic packages, so a
standalone HTML file or the web app works at an event site with a weak or no connection.
"""
