"""The operator console: server-rendered HTML (Jinja2, autoescaped), inline SVG, and a
few lines of our own CSS and JavaScript. No third-party assets."""
