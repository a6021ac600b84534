#!/usr/bin/env node
// Runs an ONNX network written by `python3 -m nsatoolkit.torch onnx` in onnxruntime-node (the
// ONNX Runtime's Node.js binding, CPU execution provider), outside Python and the toolkit.
//
//   node onnx_run.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32
//
// INPUT.f32 holds float32 values (little endian, C order) of the input tensor "image" of the
// given shape; OUTPUT.f32 receives the output tensor "scores" the same way, and its shape is
// printed. Find onnxruntime-node with NODE_PATH (Utilities/setup.sh installs it under
// .nsa-data/npm/onnxruntime/node_modules).
'use strict';
const fs = require('fs');
const path = require('path');

async function main(argv) {
  if (argv.length !== 4) {
    throw new Error('usage: node onnx_run.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32');
  }
  const [modelPath, inputPath, shapeText, outputPath] = argv;
  const shape = shapeText.split(',').map((s) => Number.parseInt(s, 10));
  if (shape.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`shape '${shapeText}': expected positive integers separated by commas`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = fs.readFileSync(inputPath);
  if (bytes.length !== 4 * count) {
    throw new Error(`'${inputPath}': ${bytes.length} bytes, expected ${4 * count} for shape ${shapeText}`);
  }
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const results = await session.run({ image: new ort.Tensor('float32', data, shape) });
  const scores = results.scores;
  // Written to a temporary file in the same folder and renamed: no half-written output.
  const temporary = path.join(path.dirname(outputPath), `.${path.basename(outputPath)}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, Buffer.from(scores.data.buffer, scores.data.byteOffset, scores.data.byteLength));
  fs.renameSync(temporary, outputPath);
  console.log(`onnxruntime-node ${require('onnxruntime-node/package.json').version}: scores ${scores.dims.join(',')}`);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
