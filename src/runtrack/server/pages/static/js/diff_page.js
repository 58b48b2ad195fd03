// The diff page: "only differences" hides the rows where every run has the same value.
const only = document.getElementById("only-differences");
const table = document.getElementById("diff-table");

function apply() {
  table.classList.toggle("only-differences", only.checked);
}

only.addEventListener("change", apply);
apply();
