"""What the pages share: templates, static files, SVG charts."""
