/*
 * Jest transform: TypeScript and ESM JavaScript -> CommonJS with SWC.
 * Plain CommonJS .js files are passed through untouched (fast path), the same trick
 * Backstage's own Jest transform uses.
 */
const { createTransformer: createSwcTransformer } = require('@swc/jest');

const ESM_SYNTAX = /\b(?:import|export)\b/;

function createTransformer(config) {
  const swc = createSwcTransformer({ inputSourceMap: false, ...config });
  return {
    getCacheKey: swc.getCacheKey,
    process(source, filePath, options) {
      if (/\.c?js$/.test(filePath) && !ESM_SYNTAX.test(source)) {
        return { code: source };
      }
      return swc.process(source, filePath, options);
    },
  };
}

module.exports = { createTransformer };
