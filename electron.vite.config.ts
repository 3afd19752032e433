/**
 * Build of the three parts (`npx electron-vite build`):
 * - main: out/main/{index,cli,bench,runner,search-runner,data-worker,engine-worker}.js, CommonJS (package.json has
 *   no "type": "module"), dependencies left as require()s of node_modules;
 * - preload: out/preload/preload.js, CommonJS and self-contained, as a sandboxed preload must be;
 * - renderer: src-renderer → out/renderer.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src-main/security/csp';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * On the dev server only, swaps index.html's production CSP for the dev one (Vite injects CSS as <style> elements
 * there). Fails loudly if index.html's policy has drifted from csp.ts, rather than serving an unexpected one.
 */
function devCsp(): Plugin {
  return {
    name: 'alphanet:dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      const prod = contentSecurityPolicy();
      if (!html.includes(`content="${prod}"`)) throw new Error('src-renderer/index.html: CSP <meta> differs from src-main/security/csp.ts');
      return html.replace(`content="${prod}"`, `content="${contentSecurityPolicy({ dev: true })}"`);
    },
  };
}

export default defineConfig({
  main: {
    build: {
      externalizeDeps: {
        // externalizeDeps covers package.json `dependencies` only. These are reached through them or loaded
        // optionally; bundling them would load a second copy of tfjs-core (a second, empty backend registry) or
        // fail the build where an optional package is absent. tfjs-backend-wasm (a dependency, so external already)
        // must stay external: it loads its .wasm files from its own package folder at run time.
        include: [
          '@tensorflow/tfjs-core',
          '@tensorflow/tfjs-backend-cpu',
          '@tensorflow/tfjs-node',
          '@tensorflow/tfjs-node-gpu',
          // A devDependency used by the benchmark only (bench --parts explorer); bundled, it would add 6 MB of
          // Playwright (with its eval) to bench.js.
          'playwright-core',
        ],
      },
      rolldownOptions: {
        // Named inputs: the keys become the output file names. electron-vite sets the format (cjs) itself.
        input: {
          index: here('src-main/index.ts'),
          cli: here('src-main/cli/main.ts'),
          bench: here('src-main/bench/main.ts'),
          study: here('src-main/bench/study-main.ts'),
          runner: here('src-main/jobs/run-runner-main.ts'),
          'train-worker': here('src-main/train/shard-worker-main.ts'),
          'eval-worker': here('src-main/search/eval-worker-main.ts'),
          'data-worker': here('src-main/service/data-worker.ts'),
          'search-runner': here('src-main/jobs/search-runner-main.ts'),
          'engine-worker': here('src-main/service/engine-worker-main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // Bundle everything the preload imports: a sandboxed preload can require only `electron` and a few builtins.
      externalizeDeps: false,
      lib: { entry: here('src-main/preload.ts') },
    },
  },
  renderer: {
    root: here('src-renderer'),
    build: {
      outDir: here('out/renderer'),
      // electron-vite leaves the renderer unminified; minified, echarts and the pages load faster from file: and
      // over the served mode's HTTP.
      minify: true,
      // bench-pareto: the Pareto explorer benchmark page (out/renderer/bench/pareto.html), driven by `bench --parts explorer`.
      rolldownOptions: { input: { index: here('src-renderer/index.html'), 'bench-pareto': here('src-renderer/bench/pareto.html') } },
    },
    // configFile: otherwise vite-plugin-svelte looks for svelte.config.* in the renderer root only.
    plugins: [svelte({ configFile: here('svelte.config.mjs') }), devCsp()],
  },
});
