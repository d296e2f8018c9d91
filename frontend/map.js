// 教育一张图: the region's outline (geo) and its schools (scatter), coloured by pieces.
import { install as ScatterChart } from "echarts/lib/chart/scatter/install.js";
import { install as GeoComponent } from "echarts/lib/component/geo/install.js";
import { install as TooltipComponent } from "echarts/lib/component/tooltip/install.js";
import { install as AriaComponent } from "echarts/lib/component/aria/install.js";
import * as echarts from "echarts/core";
import { install as CanvasRenderer } from "echarts/lib/renderer/installCanvasRenderer.js";

echarts.use([AriaComponent, ScatterChart, GeoComponent, TooltipComponent, CanvasRenderer]);

export default echarts;
