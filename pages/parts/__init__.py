"""What the pages share: widgets, the live training view, links, uploads and Streamlit's
private APIs. Each page in pages/ is one script that calls these and playground/."""
