/**
 * The parts of ECharts the run charts use, registered once. Importing from `echarts/core` and naming each part keeps
 * the bundle to line and bar charts on a canvas (the full `echarts` entry is several times larger).
 *
 * CSP: the canvas renderer draws everything on <canvas>; the only DOM it adds are wrapper <div>s styled through
 * CSSOM (`element.style`), which `style-src 'self'` allows. Tooltips use `renderMode: 'richText'` (drawn on the
 * canvas too): the default HTML tooltip builds its content with innerHTML including `style="…"` attributes, which
 * the policy blocks.
 */
import { BarChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Parallel coordinates, scatter and the colour scale: the explorer's predictor and gene views.
echarts.use([LineChart, BarChart, ParallelChart, ScatterChart, GridComponent, LegendComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export { echarts };
export type EChartsOption = Parameters<echarts.ECharts['setOption']>[0];
