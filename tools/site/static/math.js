/* tcpbook web edition: typeset $…$ and $$…$$ in the chapter with KaTeX (copied from npm). */
/* global renderMathInElement */
document.addEventListener("DOMContentLoaded", () => {
  renderMathInElement(document.querySelector("main"), {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
    ],
    ignoredClasses: ["input", "output", "explorer"],
    throwOnError: false,
  });
});
