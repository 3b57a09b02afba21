/* tcpbook web edition: the book's Python model in a web worker (Pyodide).
 *
 * Loads the interpreter copied into the site (_static/pyodide/, from the `pyodide` npm
 * package), unpacks tcpbook's pure-Python package and payload.py, and answers
 * {id, scenario, settings, fixed} with payload.run_json(...): the same function the build
 * used for the runs the page carries. Nothing is fetched from anywhere but this site.
 */
/* global loadPyodide, importScripts */
"use strict";
const version = new URL(self.location.href).searchParams.get("v") || "";
importScripts("pyodide/pyodide.js");

const ready = (async () => {
  const t0 = performance.now();
  const py = await loadPyodide({ indexURL: new URL("pyodide/", self.location.href).href });
  const zip = await fetch("tcpbook-py.zip?v=" + version);
  if (!zip.ok) throw new Error("tcpbook-py.zip: HTTP " + zip.status);
  py.unpackArchive(new Uint8Array(await zip.arrayBuffer()), "zip", { extractDir: "/home/pyodide/site" });
  py.runPython("import sys; sys.path.insert(0, '/home/pyodide/site')");
  const run = py.pyimport("payload").run_json;
  run("close", "{}", "{}"); // warm up: the first run imports the rest
  const ms = performance.now() - t0;
  self.postMessage({ type: "ready", ms });
  return run;
})();
ready.catch((err) => self.postMessage({ type: "failed", error: String(err && err.message || err) }));

self.onmessage = async (e) => {
  const { id, scenario, settings, fixed } = e.data;
  let run;
  try { run = await ready; } catch (err) { return; }
  const t0 = performance.now();
  try {
    const result = run(scenario, JSON.stringify(settings), JSON.stringify(fixed || {}));
    self.postMessage({ id, ok: true, result, ms: performance.now() - t0 });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err && err.message || err) });
  }
};
