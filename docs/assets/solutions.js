// Fold every solution cell of an exercise page into a closed "Solution" block, so that a student
// meets the task first and opens the answer on purpose. The cells are the notebooks' cells
// tagged `solution`, to which nbconvert gives the class `celltag_solution`; without JavaScript
// they simply stay open.
function foldSolutions() {
  for (const cell of document.querySelectorAll(".jp-Cell.celltag_solution")) {
    // mkdocs-jupyter nests two such divs per cell; fold the outer one, once
    if (cell.parentElement.closest(".celltag_solution, details.solution")) continue;
    const details = document.createElement("details");
    details.className = "success solution";
    const summary = document.createElement("summary");
    summary.textContent = "Solution";
    cell.before(details);
    details.append(summary, cell);
  }
}

if (typeof document$ !== "undefined") {
  document$.subscribe(foldSolutions); // Material's page-load stream (instant navigation too)
} else {
  document.addEventListener("DOMContentLoaded", foldSolutions);
}
