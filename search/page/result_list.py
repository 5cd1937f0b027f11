"""The result list as one piece of HTML: every card with its buttons (Preview, Open, Open
folder, Download, More like this) and, under a card, its preview when open. One HTML piece
instead of a Gradio column of components per card: the browser took about 0.1 s per card
component on each search, which made fifty cards (four "Show more") cost seconds. The buttons
are plain HTML; a click reaches Python as one event that names the action and the card
(search_tab.py). No Gradio here, so tests read the list as a person sees it."""
from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

ACTIONS = ("preview", "open", "folder", "get", "like")
LOCAL_ONLY = ("open", "folder")  # on this computer only (open_file.local_person)
BUTTONS = {
    "preview": ("Preview", "Show the passage in its document (Enter on a card)"),
    "open": ("Open", "Open the file on this computer, at the passage where its app can"),
    "folder": ("Open folder", "Show the folder that holds it"),
    "get": ("Download", "Download a copy of the file"),
    "like": ("More like this", "Files like this one"),
}
CLASSES = {"preview": "fathom-preview-button", "open": "fathom-open", "folder": "fathom-open-folder",
           "get": "fathom-get", "like": "fathom-like"}

# Clicks on the list's buttons become one Gradio event with the action and the card's number.
# A card worked from the keyboard keeps the focus when the list is drawn again (a preview opened).
CLICKS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action]');
  if (!button || !element.contains(button)) return;
  const card = button.closest('.fathom-result');
  element.dataset.refocus = (event.detail === 0 && card) ? card.id : '';
  trigger('click', {action: button.dataset.action, slot: Number(button.dataset.slot)});
});
watch('value', () => {
  element.querySelectorAll('.fathom-preview-text mark').forEach((mark) => {
    mark.parentElement.scrollTop = Math.max(0, mark.offsetTop - 48);  // the passage in view
  });
  const card = element.dataset.refocus ? document.getElementById(element.dataset.refocus) : null;
  element.dataset.refocus = '';
  if (card) { card.tabIndex = 0; card.focus(); }
});
"""


def result_list(cards: Sequence[str], local: bool, previews: Mapping[int, str] | None = None) -> str:
    """The cards (render.card's HTML, best first) as the page shows them."""
    previews = previews or {}
    items = []
    for i, card in enumerate(cards):
        buttons = "".join(
            f'<button type="button" class="fathom-action {CLASSES[a]}" data-action="{a}" data-slot="{i}" '
            f'title="{escape(BUTTONS[a][1])}"'
            + (f' aria-expanded="{"true" if i in previews else "false"}"' if a == "preview" else "")
            + f">{escape(BUTTONS[a][0])}</button>"
            for a in ACTIONS
            if local or a not in LOCAL_ONLY
        )
        preview = f'<div class="fathom-preview-box" id="fathom-preview-{i}">{previews[i]}</div>' if i in previews else ""
        items.append(
            f'<div class="fathom-result" id="fathom-result-{i}" tabindex="-1">{card}'
            f'<div class="fathom-actions">{buttons}</div>{preview}</div>'
        )
    return f'<div class="fathom-results">{"".join(items)}</div>' if items else ""


def clicked(data: Any, found: Sequence[Any]) -> tuple[str, int] | None:
    """(action, card number) from a click's event data, or None when it names nothing shown."""
    if not isinstance(data, Mapping):
        return None
    action, slot = data.get("action"), data.get("slot")
    if action not in ACTIONS or not isinstance(slot, (int, float)) or not 0 <= int(slot) < len(found):
        return None
    return str(action), int(slot)
