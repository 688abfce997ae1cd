// The topology view: the network as `/api/v1/topology/graph` gives it (positions computed and
// kept on the server), drawn with WebGL by sigma.js over a graphology graph. Pan and zoom, a
// search that focuses a device, neighbours highlighted, colour by role / status / PCI scope /
// single point of failure, labels as one zooms in, filters by site and role; a click opens the
// device (or partner). "If this fails" asks the server for the focused device's (or partner's)
// blast radius and greys out what it cuts off (also on arrival with `?fail=<name>`). Bundled at build time (esbuild, from package-lock.json) into
// /pkg/topology/view.js, which the topology page alone loads.
//
// Everything from the data reaches the page as text (textContent, option values), never markup.
import Graph from "graphology";
import Sigma from "sigma";

const PALETTE = ["#4f46e5", "#0891b2", "#059669", "#d97706", "#dc2626", "#7c3aed", "#db2777", "#65a30d", "#0d9488", "#9333ea", "#ea580c", "#2563eb"];
const GREY = "#cbd5e1";
const FAILED = "#dc2626";
const CUT = "#e2e8f0";
const ONE_PATH = "#d97706";
const EDGE = { link: "#94a3b8", circuit: "#6366f1", session: "#10b981" };
const STATUS = { active: "#059669", planned: "#2563eb", staged: "#2563eb", offline: "#dc2626", failed: "#dc2626", decommissioning: "#d97706", inventory: "#64748b" };

const MODES = [
  ["role", "Role"],
  ["status", "Status"],
  ["pci", "PCI scope"],
  ["spof", "Single points of failure"],
];

function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function select(id, label, options, value) {
  const s = el("select", { id, class: "rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900" });
  for (const [v, text] of options) {
    const o = el("option", { value: v, text });
    if (v === value) o.selected = true;
    s.append(o);
  }
  return [el("span", { class: "flex items-center gap-1.5" }, [el("label", { for: id, class: "text-xs text-slate-500", text: label }), s]), s];
}

/// The JSON the server answers `url` with (this session's cookie); an error names the status.
async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  return response.json();
}

const BUTTON = "rounded-lg px-2.5 py-1.5 text-sm ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800";

class TopologyView extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.started = performance.now();
    this.mode = "role";
    this.site = "";
    this.role = "";
    this.focused = null;
    this.hovered = null;
    // the blast radius shown: the node that fails, the sets of node keys lost with it, cut off
    // and left with one path, and the server's answer; and the latest request for one
    this.blast = null;
    this.asking = 0;
    this.build();
    this.load();
  }

  disconnectedCallback() {
    this.renderer?.kill();
    this.renderer = null;
    this.built = false;
    this.replaceChildren();
  }

  build() {
    const roles = (this.dataset.roles || "").split(",").filter(Boolean);
    const sites = (this.dataset.sites || "").split("\u001f").filter(Boolean);
    this.search = el("input", {
      id: "topology-search", type: "search", list: "topology-names", maxlength: "100", autocomplete: "off",
      placeholder: "Find a device or partner", "aria-label": "Find a device or partner",
      class: "w-64 rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900",
    });
    this.names = el("datalist", { id: "topology-names" });
    const form = el("form", { class: "flex items-center gap-2", role: "search" }, [this.search, this.names, el("button", { class: BUTTON, text: "Find" })]);
    form.addEventListener("submit", (e) => { e.preventDefault(); this.find(this.search.value); });
    this.search.addEventListener("change", () => this.find(this.search.value));
    const [modeField, mode] = select("topology-colour", "Colour by", MODES, this.mode);
    mode.addEventListener("change", () => { this.mode = mode.value; this.recolour(); });
    const [siteField, site] = select("topology-site", "Site", [["", "All sites"], ...sites.map((s) => [s, s])], "");
    site.addEventListener("change", () => { this.site = site.value; this.load(); });
    const [roleField, role] = select("topology-role", "Role", [["", "All roles"], ...roles.map((r) => [r, r])], "");
    role.addEventListener("change", () => { this.role = role.value; this.load(); });
    const zoom = (f) => () => this.renderer && this.renderer.getCamera().animate({ ratio: this.renderer.getCamera().ratio * f }, { duration: 200 });
    const zoomIn = el("button", { type: "button", class: BUTTON, text: "+", "aria-label": "Zoom in" });
    zoomIn.addEventListener("click", zoom(1 / 1.5));
    const zoomOut = el("button", { type: "button", class: BUTTON, text: "−", "aria-label": "Zoom out" });
    zoomOut.addEventListener("click", zoom(1.5));
    const reset = el("button", { type: "button", class: BUTTON, text: "Whole network" });
    reset.addEventListener("click", () => { this.showBlast(null); this.focus(null); this.renderer?.getCamera().animatedReset({ duration: 300 }); });
    this.failButton = el("button", { type: "button", class: BUTTON, text: "If this fails", disabled: "", title: "Find a device or partner first", "data-testid": "topology-if-fails" });
    this.failButton.addEventListener("click", () => this.ifFails(this.focused));
    this.blastNote = el("p", { class: "text-sm", role: "status", "aria-live": "polite", "data-testid": "topology-blast" });
    this.blastNote.hidden = true;
    this.status = el("p", { class: "text-xs text-slate-500", role: "status", "aria-live": "polite", text: "Loading the network…" });
    this.legend = el("ul", { class: "flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600 dark:text-slate-400", "aria-label": "Legend" });
    this.stage = el("div", {
      class: "mt-3 h-[70vh] min-h-[28rem] w-full rounded-lg border border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-950",
      role: "application", "aria-label": "Network drawing: drag to pan, scroll to zoom, click a device to open it", "data-testid": "topology-stage",
    });
    this.replaceChildren(
      el("div", { class: "flex flex-wrap items-center gap-3" }, [form, modeField, siteField, roleField, el("span", { class: "flex items-center gap-1" }, [zoomIn, zoomOut, reset, this.failButton])]),
      el("div", { class: "mt-2 flex flex-wrap items-center justify-between gap-2" }, [this.status, this.legend]),
      this.blastNote,
      this.stage,
    );
  }

  async load() {
    const url = new URL(this.dataset.src, location.origin);
    if (this.site) url.searchParams.set("site", this.site);
    if (this.role) url.searchParams.set("role", this.role);
    this.setAttribute("data-state", "loading");
    let drawing;
    try {
      drawing = await getJson(url);
    } catch (e) {
      this.fail(`The network could not be loaded (${e.message}). The overview below still shows it.`);
      return;
    }
    this.draw(drawing);
  }

  fail(message) {
    this.status.textContent = message;
    this.setAttribute("data-state", "failed");
  }

  draw(d) {
    const graph = new Graph({ type: "undirected", multi: true, allowSelfLoops: false });
    const findings = new Set((d.partner_findings || []).map((f) => f.partner));
    d.nodes.forEach((n) => {
      graph.addNode(n.key, {
        label: n.name, name: n.name, kind: n.kind, role: n.role || "", nodeStatus: n.status || "", pci: !!n.pci,
        weak: !!n.weak || (n.kind === "partner" && findings.has(n.name)),
        // the server draws y downwards; sigma's y goes up
        x: n.x, y: -n.y, size: n.kind === "partner" ? 7 : n.weak ? 5 : 3,
      });
    });
    d.links.forEach((l) => {
      const a = d.nodes[l.a], b = d.nodes[l.b];
      if (!a || !b || a.key === b.key) return;
      graph.addEdgeWithKey(l.key, a.key, b.key, { kind: l.kind, label: l.label, color: EDGE[l.kind] || EDGE.link, size: l.kind === "circuit" ? 1.5 : 0.6 });
    });
    this.graph = graph;
    this.byName = new Map(d.nodes.map((n) => [n.name, n.key]));
    const xs = d.nodes.map((n) => n.x), ys = d.nodes.map((n) => n.y);
    this.extent = d.nodes.length ? Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) : 1;
    // each role its own colour, in name order (a palette of twelve)
    const roles = [...new Set(d.nodes.filter((n) => n.kind !== "partner").map((n) => n.role || ""))].sort();
    this.roleColour = new Map(roles.map((r, i) => [r, PALETTE[i % PALETTE.length]]));
    this.recolour(false);
    this.names.replaceChildren(...d.nodes.map((n) => el("option", { value: n.name })));
    this.renderer?.kill();
    try {
      this.renderer = new Sigma(graph, this.stage, {
        labelRenderedSizeThreshold: 9,
        labelDensity: 0.6,
        hideEdgesOnMove: graph.size > 4000,
        zIndex: true,
        defaultEdgeColor: EDGE.link,
        nodeReducer: (node, data) => this.nodeLook(node, data),
        edgeReducer: (edge, data) => this.edgeLook(edge, data),
      });
    } catch (e) {
      this.fail("This browser cannot draw with WebGL here; the overview and tables below show the network.");
      return;
    }
    const r = this.renderer;
    r.on("enterNode", ({ node }) => { this.hovered = node; r.refresh({ skipIndexation: true }); });
    r.on("leaveNode", () => { this.hovered = null; r.refresh({ skipIndexation: true }); });
    r.on("clickNode", ({ node }) => {
      const a = graph.getNodeAttributes(node);
      location.assign(`/topology/${a.kind === "partner" ? "partners" : "devices"}/${encodeURIComponent(a.name)}`);
    });
    r.on("clickStage", () => this.focus(null));
    // the first frame: sigma may draw it while it is made, so ask for one more and wait for it
    let first = true;
    r.on("afterRender", () => {
      if (!first) return;
      first = false;
      this.setAttribute("data-first-frame-ms", String(Math.round(performance.now())));
      this.setAttribute("data-draw-ms", String(Math.round(performance.now() - this.started)));
      this.setAttribute("data-state", "drawn");
    });
    r.refresh();
    this.setAttribute("data-nodes", String(graph.order));
    this.setAttribute("data-edges", String(graph.size));
    this.status.textContent = `${graph.order.toLocaleString()} devices and partners, ${graph.size.toLocaleString()} links, circuits and sessions`
      + (this.site || this.role ? " (filtered)" : "") + ". Zoom in for labels.";
    const fallback = this.parentElement?.querySelector("[data-topology-fallback]");
    if (fallback) fallback.hidden = true;
    if (this.focused && graph.hasNode(this.focused)) this.focus(this.focused);
    else this.focused = null;
    const asked = new URLSearchParams(location.search).get("fail");
    if (asked && !this.asked && this.byName.has(asked)) {
      this.asked = true;
      this.focus(this.byName.get(asked));
      this.ifFails(this.byName.get(asked));
    } else if (this.blast) {
      // drawn again (a filter changed): ask again, or let go of what is no longer drawn
      if (graph.hasNode(this.blast.failing)) this.ifFails(this.blast.failing);
      else this.showBlast(null);
    }
  }

  /// Asks the server what `node`'s failure cuts off, and greys that out.
  async ifFails(node) {
    if (!node || !this.graph?.hasNode(node)) return;
    const a = this.graph.getNodeAttributes(node);
    const asked = ++this.asking;
    const url = new URL("/api/v1/blast-radius", location.origin);
    url.searchParams.set("kind", a.kind === "partner" ? "partner" : "device");
    url.searchParams.set("name", a.name);
    this.failButton.disabled = true;
    this.blastNote.hidden = false;
    this.blastNote.className = "text-sm text-slate-600 dark:text-slate-400";
    this.blastNote.textContent = `Working out what ${a.name}'s failure cuts off…`;
    let b;
    try {
      b = await getJson(url);
    } catch (e) {
      if (asked !== this.asking) return;
      this.showBlast(null);
      this.blastNote.hidden = false;
      this.blastNote.textContent = `What ${a.name}'s failure cuts off could not be worked out (${e.message}).`;
      return;
    } finally {
      this.failButton.disabled = !this.focused;
    }
    // cleared, or asked again, meanwhile
    if (asked !== this.asking) return;
    const keys = (names) => names.map((n) => this.byName.get(n)).filter((k) => k !== undefined);
    const partners = b.partners || [];
    // a partner that fails is lost, not cut off
    const cutPartners = partners.filter((p) => p.effect === "cut_off" && p.name !== a.name).map((p) => p.name);
    this.showBlast({
      failing: node,
      lost: new Set([node, ...keys(b.devices_lost || [])]),
      cut: new Set(keys([...(b.devices_cut_off || []), ...cutPartners])),
      single: new Set(keys(partners.filter((p) => p.effect === "single_path").map((p) => p.name))),
      name: a.name, kind: a.kind, answer: b, cutPartners,
    });
  }

  /// Shows (or, with null, clears) a blast radius: the note above the drawing, and the greying.
  showBlast(blast) {
    this.blast = blast;
    if (!blast) {
      this.asking++;
      this.blastNote.hidden = true;
      this.blastNote.replaceChildren();
      this.removeAttribute("data-failing");
      this.renderer?.refresh({ skipIndexation: true });
      return;
    }
    const b = blast.answer;
    const devices = (b.devices_cut_off || []).length;
    const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;
    const parts = [];
    if (devices) parts.push(plural(devices, "device"));
    if (blast.cutPartners.length) parts.push(`${plural(blast.cutPartners.length, "partner")} (${blast.cutPartners.join(", ")})`);
    const said = parts.length ? `cuts off ${parts.join(" and ")}, greyed out below` : "cuts nothing off";
    const beyond = [];
    if ((b.integrations || []).length) beyond.push(plural(b.integrations.length, "integration"));
    if ((b.services || []).length) beyond.push(plural(b.services.length, "service"));
    const page = `/topology/${blast.kind === "partner" ? "partners" : "devices"}/${encodeURIComponent(blast.name)}#if-this-fails`;
    const clear = el("button", { type: "button", class: "ml-2 underline", text: "Clear" });
    clear.addEventListener("click", () => this.showBlast(null));
    this.blastNote.className = "rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-900 ring-1 ring-rose-200 dark:bg-rose-950 dark:text-rose-100 dark:ring-rose-900";
    this.blastNote.replaceChildren(
      el("strong", { text: `If ${blast.name} fails` }),
      `, it ${said}${blast.single.size ? `; ${plural(blast.single.size, "partner")} left with one path (amber)` : ""}`
        + `${beyond.length ? `; it reaches ${beyond.join(" and ")}` : ""}. `,
      el("a", { href: page, class: "underline", text: "The whole answer, with why" }),
      clear,
    );
    this.setAttribute("data-failing", blast.name);
    this.renderer?.refresh({ skipIndexation: true });
  }

  /// How a node is drawn now (what the reducer gives): for a reader of the page, and a test.
  look(name) {
    const key = this.byName?.get(name);
    if (key === undefined) return null;
    return this.nodeLook(key, this.graph.getNodeAttributes(key));
  }

  colourOf(a) {
    switch (this.mode) {
      case "status": return STATUS[a.nodeStatus] || "#d97706";
      case "pci": return a.pci ? "#d97706" : "#64748b";
      case "spof": return a.weak ? "#dc2626" : "#94a3b8";
      default: return a.kind === "partner" ? "#0f172a" : this.roleColour.get(a.role) || "#64748b";
    }
  }

  recolour(refresh = true) {
    if (!this.graph) return;
    const seen = new Map();
    this.graph.forEachNode((node, a) => {
      const colour = this.colourOf(a);
      this.graph.setNodeAttribute(node, "color", colour);
      const key = this.mode === "role" ? (a.kind === "partner" ? "partner" : a.role)
        : this.mode === "status" ? a.nodeStatus
        : this.mode === "pci" ? (a.pci ? "in PCI scope" : "not in PCI scope")
        : (a.weak ? "single point of failure (or a partner with one path)" : "redundant");
      if (!seen.has(key)) seen.set(key, colour);
    });
    const items = [...seen.entries()].sort((x, y) => x[0].localeCompare(y[0])).slice(0, 14).map(([key, colour]) => {
      const dot = el("span", { class: "inline-block h-2.5 w-2.5 rounded-full align-middle" });
      dot.style.backgroundColor = colour;
      return el("li", { class: "flex items-center gap-1.5" }, [dot, key || "—"]);
    });
    this.legend.replaceChildren(...items);
    if (refresh) this.renderer?.refresh({ skipIndexation: true });
  }

  /// The neighbourhood that stands out: the focused node's, else the hovered one's.
  around() {
    const centre = this.hovered || this.focused;
    if (!centre || !this.graph?.hasNode(centre)) return null;
    const set = new Set(this.graph.neighbors(centre));
    set.add(centre);
    return { centre, set };
  }

  nodeLook(node, data) {
    if (this.blast) {
      if (this.blast.lost.has(node)) return { ...data, color: FAILED, zIndex: 2, forceLabel: node === this.blast.failing, highlighted: true, size: data.size * 1.8 };
      if (this.blast.cut.has(node)) return { ...data, color: CUT, zIndex: 0, forceLabel: data.kind === "partner" };
      if (this.blast.single.has(node)) return { ...data, color: ONE_PATH, zIndex: 1, forceLabel: true };
      return data;
    }
    const around = this.around();
    if (!around) return data;
    if (!around.set.has(node)) return { ...data, color: GREY, label: "", zIndex: 0 };
    // the centre's label always; its neighbours' where they do not collide (sigma's label grid)
    const centre = node === around.centre;
    return { ...data, zIndex: 1, forceLabel: centre, highlighted: centre, size: centre ? data.size * 1.8 : data.size };
  }

  edgeLook(edge, data) {
    if (this.blast) {
      const [a, b] = this.graph.extremities(edge);
      const gone = (n) => this.blast.lost.has(n) || this.blast.cut.has(n);
      return gone(a) || gone(b) ? { ...data, color: CUT } : data;
    }
    const around = this.around();
    if (!around) return data;
    const [a, b] = this.graph.extremities(edge);
    return a === around.centre || b === around.centre ? { ...data, size: data.size * 2, zIndex: 1 } : { ...data, hidden: true };
  }

  find(text) {
    const want = (text || "").trim().toLowerCase();
    if (!want || !this.graph) return;
    let hit = null;
    this.graph.forEachNode((node, a) => {
      if (hit === null && a.name.toLowerCase() === want) hit = node;
    });
    if (hit === null) {
      this.graph.forEachNode((node, a) => {
        if (hit === null && a.name.toLowerCase().includes(want)) hit = node;
      });
    }
    if (hit === null) {
      this.status.textContent = `No device or partner is called “${text.trim().slice(0, 100)}”.`;
      return;
    }
    this.focus(hit);
  }

  focus(node) {
    this.focused = node;
    this.failButton.disabled = !node;
    this.failButton.title = node ? "Grey out what its failure cuts off" : "Find a device or partner first";
    if (node) {
      const a = this.graph.getNodeAttributes(node);
      this.status.textContent = `${a.name}: ${a.kind === "partner" ? "partner" : a.role}, ${this.graph.degree(node)} links. Click it to open it.`;
      this.stage.scrollIntoView({ block: "nearest" });
      const at = this.renderer?.getNodeDisplayData(node);
      // said once the camera is there (what a test, or a screen reader's next read, waits for)
      const arrived = () => { if (this.focused === node) this.setAttribute("data-focused", a.name); };
      this.removeAttribute("data-focused");
      // close enough that a device's neighbours in its site read (about 320 units of the drawing)
      const ratio = Math.min(0.5, Math.max(0.005, 320 / (this.extent || 320)));
      if (at) this.renderer.getCamera().animate({ x: at.x, y: at.y, ratio }, { duration: 400 }).then(arrived);
      else arrived();
    } else {
      this.removeAttribute("data-focused");
    }
    this.renderer?.refresh({ skipIndexation: true });
  }
}

if (!customElements.get("topology-view")) customElements.define("topology-view", TopologyView);
