() => {
  // Fathom's page script: the keyboard, the address bar and the recent searches.
  // Recent searches stay in this browser (localStorage), never in the data folder: a search
  // is one person's own, and a page shared with others must not show them each other's.
  const RECENT_KEY = "fathom-recent-searches";
  const RECENT_MAX = 8;

  const recent = () => {
    try { return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]").filter((r) => r && r.q); }
    catch (e) { return []; }
  };

  const showRecent = () => {
    const list = document.getElementById("fathom-recent-list");
    if (!list) return;
    const items = recent();
    list.replaceChildren();
    if (!items.length) return;
    const label = document.createElement("span");
    label.className = "fathom-recent-label";
    label.textContent = "Recent:";
    list.append(label);
    for (const item of items) {
      const link = document.createElement("a");
      link.href = "?" + item.address;
      link.textContent = item.q;
      link.title = "Search again: " + item.q;
      list.append(link);
    }
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "fathom-recent-clear";
    clear.textContent = "clear";
    clear.title = "Forget the recent searches (kept in this browser only)";
    clear.onclick = () => { localStorage.removeItem(RECENT_KEY); showRecent(); };
    list.append(clear);
  };

  // After each search (layout.py's REMEMBER_JS): the address bar and the recent searches.
  window.fathomRemember = (address, q) => {
    if (!address) return;
    const wanted = "?" + address;
    if (window.location.search !== wanted) {
      window.history.pushState({ fathom: address }, "", wanted);
    }
    const items = recent().filter((r) => r.q !== q);
    items.unshift({ q: q, address: address });
    try { localStorage.setItem(RECENT_KEY, JSON.stringify(items.slice(0, RECENT_MAX))); } catch (e) {}
    showRecent();
  };

  // Back and Forward: the page shows the search its address names.
  window.addEventListener("popstate", () => { window.location.reload(); });

  const queryBox = () => document.querySelector("#fathom-query textarea, #fathom-query input");
  const cards = () => Array.from(document.querySelectorAll(".fathom-result"))
    .filter((card) => card.offsetParent !== null);
  const focusCard = (card) => {
    card.tabIndex = 0;
    card.focus();
    card.scrollIntoView({ block: "nearest" });
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
    if (event.key === "/" && !typing) {  // "/" searches, as on most sites
      const box = queryBox();
      if (box) { event.preventDefault(); box.focus(); box.select(); }
      return;
    }
    const card = target && target.closest ? target.closest(".fathom-result") : null;
    const onCard = card && target === card;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const all = cards();
      if (onCard) {
        const next = all.indexOf(card) + (event.key === "ArrowDown" ? 1 : -1);
        event.preventDefault();
        if (next < 0) { const box = queryBox(); if (box) box.focus(); }
        else if (next < all.length) focusCard(all[next]);
      } else if (event.key === "ArrowDown" && target === queryBox() && all.length) {
        event.preventDefault();
        focusCard(all[0]);
      }
      return;
    }
    if (event.key === "Enter" && onCard) {  // the card's preview, opened or closed
      const button = card.querySelector(".fathom-preview-button");
      if (button) { event.preventDefault(); button.click(); }
    }
  });

  // The recent searches' place is drawn by Gradio after this script runs.
  const drawn = new MutationObserver(() => {
    if (document.getElementById("fathom-recent-list")) { drawn.disconnect(); showRecent(); }
  });
  drawn.observe(document.body, { childList: true, subtree: true });
  showRecent();
}
