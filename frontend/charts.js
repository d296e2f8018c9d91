// Overview, school profile, warnings: bars and lines over a grid. Deep imports keep esbuild's
// code splitting exact: what only this page type needs stays out of the shared core chunk.
import { install as BarChart } from "echarts/lib/chart/bar/install.js";
import { install as LineChart } from "echarts/lib/chart/line/install.js";
import { install as GridComponent } from "echarts/lib/component/grid/installSimple.js";
import { install as LegendComponent } from "echarts/lib/component/legend/installLegendPlain.js";
import { install as MarkLineComponent } from "echarts/lib/component/marker/installMarkLine.js";
import { install as TooltipComponent } from "echarts/lib/component/tooltip/install.js";
import { install as AriaComponent } from "echarts/lib/component/aria/install.js";
import * as echarts from "echarts/core";
import { install as CanvasRenderer } from "echarts/lib/renderer/installCanvasRenderer.js";

echarts.use([
  AriaComponent,
  BarChart,
  LineChart,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export default echarts;
