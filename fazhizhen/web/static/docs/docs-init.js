// Swagger UI over this server's own OpenAPI document (kept out of the page: no inline script).
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
});
