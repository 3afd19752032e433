/// <reference types="vite/client" />
// Vite's client types: side-effect CSS imports (main.ts) and import.meta.env.
