#!/usr/bin/env node
// Compiles the test contracts in this directory with solc-js (offline, standard JSON) and
// writes artifacts/<Contract>.json = {"abi": [...], "bytecode": "0x..."} for every contract.
// The artifacts are committed; run this only after changing a .sol file:
//   node tests/contracts/compile.js        (solc from $EVMTAP_TOOLS, default ~/.cache/evmtap-tools)
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');

const tools = process.env.EVMTAP_TOOLS || path.join(os.homedir(), '.cache', 'evmtap-tools');
const solc = require(path.join(tools, 'node_modules', 'solc'));

const dir = __dirname;
const out = path.join(dir, 'artifacts');
const sources = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(dir, f), 'utf8') };
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'paris', // no PUSH0: the bytecode runs on any EVM chain
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.methodIdentifiers'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);

fs.mkdirSync(out, { recursive: true });
for (const file of Object.keys(output.contracts).sort()) {
  for (const name of Object.keys(output.contracts[file]).sort()) {
    const c = output.contracts[file][name];
    const artifact = { contractName: name, source: file, compiler: 'solc-' + solc.version(),
      abi: c.abi, bytecode: '0x' + c.evm.bytecode.object,
      methodIdentifiers: c.evm.methodIdentifiers };
    fs.writeFileSync(path.join(out, name + '.json'), JSON.stringify(artifact, null, 1) + '\n');
    console.log('compile: ' + name + ' (' + c.evm.bytecode.object.length / 2 + ' bytes)');
  }
}
