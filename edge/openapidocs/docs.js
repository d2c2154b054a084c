// Renders openapi.json (beside this file) as one page: the services, each
// RPC with who may call it, its request and response fields, its errors and
// a curl command. No framework and nothing loaded from elsewhere.
"use strict";

const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
};

const refName = (ref) => ref.replace("#/components/schemas/", "");

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return refName(schema.$ref);
  if (schema.type === "array") return typeOf(schema.items) + "[]";
  if (schema.type === "object" && schema.additionalProperties) return "map<string, " + typeOf(schema.additionalProperties) + ">";
  if (schema.enum) return "enum: " + schema.enum.join(" | ");
  return schema.type + (schema.format ? " (" + schema.format + ")" : "");
}

const shown = new Set();

function fieldsTable(schemas, ref) {
  const name = refName(ref);
  const schema = schemas[name];
  const anchor = shown.has(name) ? {} : { id: "schema-" + name };
  shown.add(name);
  if (schema && schema.enum) return el("p", {}, el("code", anchor, name), ": one of " + schema.enum.join(", "));
  const props = (schema && schema.properties) || {};
  if (Object.keys(props).length === 0) return el("p", {}, el("code", anchor, name), " (no fields: send {})");
  const table = el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "description")));
  for (const [field, p] of Object.entries(props)) {
    const type = typeOf(p);
    const typeCell = el("td", {});
    const target = p.$ref || (p.items && p.items.$ref);
    if (target) typeCell.append(el("a", { href: "#schema-" + refName(target) }, el("code", {}, type)));
    else typeCell.append(el("code", {}, type));
    table.append(el("tr", {}, el("td", {}, el("code", {}, field)), typeCell,
      el("td", { class: "doc" }, [p.title, p.description].filter(Boolean).join("\n"))));
  }
  return el("div", {}, el("p", {}, el("code", anchor, name)), table);
}

function curl(path, op) {
  const lines = ["curl -s " + location.origin + path, "  -H 'Content-Type: application/json'"];
  if (op.security && op.security.length > 0) lines.push('  -H "Authorization: Bearer $TOKEN"');
  lines.push("  -d '{}'");
  return lines.join(" \\\n");
}

function render(doc) {
  const schemas = doc.components.schemas;
  document.getElementById("intro").textContent = doc.info.description;
  const toc = document.getElementById("toc");
  const main = document.getElementById("rpcs");
  const byService = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.post;
    const service = op.tags[0];
    if (!byService.has(service)) byService.set(service, []);
    byService.get(service).push([path, op]);
  }
  for (const [service, ops] of [...byService].sort()) {
    toc.append(el("h2", {}, service.replace(/^emporium\./, "")));
    for (const [path, op] of ops) {
      const id = op.operationId;
      toc.append(el("a", { href: "#" + id, "data-rpc": id }, path.split("/").pop()));
      const access = op["x-emporium-access"];
      const section = el("section", { class: "rpc", id, "data-search": (path + " " + access + " " + (op.summary || "")).toLowerCase() },
        el("h3", {}, "POST " + path, el("span", { class: "access " + access }, access)));
      const text = [op.summary, op.description].filter(Boolean).join("\n\n");
      section.append(el("p", { class: "doc" }, text));
      const req = op.requestBody.content["application/json"].schema.$ref;
      const res = op.responses["200"].content["application/json"].schema.$ref;
      section.append(el("h4", {}, "Request"), fieldsTable(schemas, req));
      section.append(el("h4", {}, "Response"), fieldsTable(schemas, res));
      section.append(el("h4", {}, "Errors"), el("p", {}, "A Connect error, ",
        el("a", { href: "#errors" }, "code, message and details"), "; invalid input answers invalid_argument (400) with field violations."));
      section.append(el("h4", {}, "curl"), el("pre", {}, curl(path, op)));
      main.append(section);
    }
  }
  const err = schemas["connect.Error"];
  main.append(el("section", { class: "rpc", id: "errors" }, el("h3", {}, "Errors"), el("p", { class: "doc" }, err.description),
    fieldsTable(schemas, "#/components/schemas/connect.Error")));
  const messages = el("section", { class: "rpc", id: "messages" }, el("h3", {}, "Other messages"));
  for (const name of Object.keys(schemas).sort()) {
    if (!shown.has(name)) messages.append(fieldsTable(schemas, "#/components/schemas/" + name));
  }
  main.append(messages);
  document.getElementById("filter").addEventListener("input", (e) => {
    const q = e.target.value.trim().toLowerCase();
    for (const s of main.querySelectorAll("section.rpc[data-search]")) {
      const hide = q !== "" && !s.dataset.search.includes(q);
      s.classList.toggle("hidden", hide);
      toc.querySelector(`a[data-rpc="${s.id}"]`).classList.toggle("hidden", hide);
    }
  });
  document.body.dataset.rpcs = String(main.querySelectorAll("section.rpc[data-search]").length);
}

fetch("openapi.json")
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error("openapi.json: HTTP " + r.status))))
  .then(render)
  .catch((e) => { document.getElementById("intro").textContent = "Could not load the API description: " + e.message; });
