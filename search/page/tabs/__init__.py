"""The page's tabs: each builds its components (inside the page's `gr.Tabs`), returns them by
name, and wires its own events."""
