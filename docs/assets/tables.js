// Two things CSS cannot tell by itself, for the tables of a page (see extra.css):
// - which code spans of a cell are tokens (no space in them: a method label such as
//   `randomized-search-cv[cv5-n16]`, a file or key name), to keep them on one line: a browser
//   breaks after any hyphen;
// - which tables have a first column too wide to keep in view while the rest scrolls under it
//   (more than two thirds of the table's box, as a long key is on a phone): those scroll whole.
const STICKY_SHARE = 2 / 3;

function fitFirstColumns() {
  for (const table of document.querySelectorAll(".md-typeset table:not([class])")) {
    const box = table.closest(".md-typeset__scrollwrap") || table;
    const first = table.querySelector("th, td");
    const wide = first && first.getBoundingClientRect().width > STICKY_SHARE * box.clientWidth;
    table.toggleAttribute("data-wide-first", Boolean(wide));
  }
}

document$.subscribe(() => {
  for (const code of document.querySelectorAll(".md-typeset td code, .md-typeset th code")) {
    if (!/\s/.test(code.textContent)) code.classList.add("hpo-token");
  }
  fitFirstColumns();
});
window.addEventListener("resize", fitFirstColumns);
document.addEventListener("toggle", fitFirstColumns, true); // a <details> opened: widths change
