import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** The demo PWA: React, and a service worker that keeps the app shell for offline starts. */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [
    react(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: 'Concord branch inventory',
        short_name: 'Inventory',
        description: 'Offline-first branch inventory on Concord merge replication',
        start_url: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1f4e79',
        icons: [{ src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        // Take over the page at once, so the first visit already leaves a working offline shell.
        clientsClaim: true,
        skipWaiting: true,
        globPatterns: ['**/*.{js,css,html,svg}'],
        navigateFallback: '/index.html',
        // The sync API is never served from the cache.
        navigateFallbackDenylist: [/^\/v1\//],
      },
    }),
  ],
  build: { outDir: 'dist', emptyOutDir: true },
});
