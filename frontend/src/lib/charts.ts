// ECharts, only the parts the dashboard draws (echarts/core + the charts and
// components used), instead of the whole library.
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, TitleComponent } from 'echarts/components'
import VChart from 'vue-echarts'

use([CanvasRenderer, BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent])

/** No animation under automation (browser tests take screenshots at once). */
export const animate = !(globalThis.navigator as Navigator | undefined)?.webdriver

export const palette = ['#2563eb', '#16a34a', '#f59e0b', '#9333ea', '#0891b2', '#dc2626']

export { VChart }
