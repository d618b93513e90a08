// Validates an AsyncAPI document with the official parser (@asyncapi/parser).
// Usage: node validate.js FILE. Prints one JSON line per diagnostic; exits 1 on any error.
"use strict";
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");

async function main() {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: node validate.js FILE");
    process.exit(2);
  }
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(fs.readFileSync(path, "utf8"), {
    source: path,
  });
  let errors = 0;
  for (const d of diagnostics) {
    // Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
    if (d.severity === 0) errors += 1;
    console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message, path: d.path }));
  }
  if (!document || errors > 0) {
    console.log(JSON.stringify({ valid: false, errors }));
    process.exit(1);
  }
  console.log(JSON.stringify({ valid: true, version: document.version(), channels: document.channels().length, messages: document.allMessages().length }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(2);
});
