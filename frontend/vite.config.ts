/// <reference types="vitest/config" />
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig } from 'vite'

// The console is embedded into the Go binaries (package frontend) and served
// at /console/ by the server and at the root of the Wails window: relative
// asset URLs (base './') and hash routing let one build work in both places.
export default defineConfig({
  base: './',
  plugins: [
    vue(),
    // Element Plus on demand: each <el-*> tag in a template imports that
    // component and its CSS, instead of the whole library.
    Components({
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
      // Template types come from element-plus/global (tsconfig.app.json), so
      // no generated declaration file is needed.
      dts: false,
    }),
  ],
  server: {
    // `npm run dev` against `make run` (127.0.0.1:8080).
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Screens are loaded on first visit (lazy routes): the sign-in page
    // does not wait for the charts.
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      output: {
        // Vue in a chunk of its own: it changes less often than the screens,
        // so it stays cached across releases. Element Plus components and
        // ECharts go with the screens that use them (the charts only load
        // with the dashboard). A group for ECharts would be preloaded by
        // index.html (it shares helpers with the entry): none on purpose.
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
  },
})
