import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * Shared by electron-vite (renderer), vitest (component tests) and svelte-check.
 * @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig}
 */
export default {
  // `<script lang="ts">` and any `<style lang=...>` go through Vite's own transforms.
  preprocess: vitePreprocess(),
  vitePlugin: {
    // Our components are Svelte 5 runes-only; third-party components keep whatever mode they were written in.
    dynamicCompileOptions({ filename }) {
      return filename.includes('/node_modules/') ? undefined : { runes: true };
    },
  },
};
