// The API reference page (/api/docs): Swagger UI over the document the server generates.
window.addEventListener("load", () => {
  window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#reference",
    // Deep links put a link inside each operation's button (nested interactive controls).
    deepLinking: false,
    defaultModelsExpandDepth: -1,
    tryItOutEnabled: false,
    // Swagger UI's own selects have no label: name them for screen readers.
    onComplete: () => {
      for (const select of document.querySelectorAll("select:not([aria-label])")) {
        select.setAttribute("aria-label", select.id === "servers" || select.closest(".servers") ? "Server" : "Choose");
      }
    },
  });
});
