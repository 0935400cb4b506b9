/**
 * A small SVG chart of a study's incumbent trajectory.
 */

import { ITrajectoryPoint } from './tokens';

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 260;
const HEIGHT = 130;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };

/** Plot coordinates of the incumbent step line and of each complete trial. */
export interface IChartGeometry {
  /** `points` attribute of the incumbent polyline (steps). */
  incumbent: string;
  /** One dot per complete trial: [x, y]. */
  dots: Array<[number, number]>;
  /** Value range on the y axis. */
  low: number;
  high: number;
  /** Number of trials on the x axis. */
  trials: number;
}

/**
 * Compute the chart's geometry, or null when no trial is complete yet.
 *
 * x is the trial number, y the objective value (low values at the bottom).
 * The incumbent line starts at the first complete trial and steps at each
 * improvement. A long study's points are a sample (the server sends every
 * improvement and the rest thinned out), so x comes from each point's number.
 */
export function chartGeometry(
  points: ITrajectoryPoint[]
): IChartGeometry | null {
  const values = points
    .map(p => p.value)
    .filter((v): v is number => v !== null && isFinite(v));
  if (values.length === 0) {
    return null;
  }
  // A loop, not Math.min(...values): spreading 100,000 values overflows the stack.
  let low = values[0];
  let high = values[0];
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  if (high === low) {
    low -= 0.5 * Math.abs(low || 1);
    high += 0.5 * Math.abs(high || 1);
  }
  const lastNumber = points[points.length - 1].number;
  const last = Math.max(lastNumber, 1);
  const x = (i: number): number =>
    round(
      PAD.left + ((WIDTH - PAD.left - PAD.right) * points[i].number) / last
    );
  const y = (v: number): number =>
    round(
      HEIGHT -
        PAD.bottom -
        ((HEIGHT - PAD.top - PAD.bottom) * (v - low)) / (high - low)
    );

  const steps: string[] = [];
  let previous: number | null = null;
  points.forEach((point, i) => {
    const best = point.incumbent;
    if (best === null) {
      return;
    }
    if (previous !== null && best !== previous) {
      steps.push(`${x(i)},${y(previous)}`);
    }
    steps.push(`${x(i)},${y(best)}`);
    previous = best;
  });
  if (previous !== null && points.length > 0) {
    steps.push(`${x(points.length - 1)},${y(previous)}`);
  }

  const dots: Array<[number, number]> = [];
  points.forEach((point, i) => {
    if (point.state === 'COMPLETE' && point.value !== null) {
      dots.push([x(i), y(point.value)]);
    }
  });
  return {
    incumbent: steps.join(' '),
    dots,
    low,
    high,
    trials: lastNumber + 1
  };
}

/**
 * Render the incumbent trajectory as an SVG element, or a note when no trial
 * is complete yet.
 */
export function renderTrajectory(
  points: ITrajectoryPoint[],
  direction: string
): Element {
  const geometry = chartGeometry(points);
  if (geometry === null) {
    const note = document.createElement('p');
    note.className = 'hptaa-Note';
    note.textContent =
      'No complete trial yet: the chart appears with the first.';
    return note;
  }

  const svg = svgElement('svg', {
    class: 'hptaa-Chart-svg',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label':
      `Incumbent trajectory over ${geometry.trials} trials ` +
      `(objective ${direction === 'maximize' ? 'maximized' : 'minimized'})`
  });
  const bottom = HEIGHT - PAD.bottom;
  svg.appendChild(
    svgElement('path', {
      class: 'hptaa-Chart-axis',
      d: `M${PAD.left},${PAD.top} V${bottom} ` + `H${WIDTH - PAD.right}`
    })
  );
  for (const [cx, cy] of geometry.dots) {
    svg.appendChild(
      svgElement('circle', { class: 'hptaa-Chart-dot', cx, cy, r: 2 })
    );
  }
  svg.appendChild(
    svgElement('polyline', {
      class: 'hptaa-Chart-incumbent',
      points: geometry.incumbent
    })
  );
  svg.appendChild(
    label(PAD.left - 4, PAD.top + 8, axisLabel(geometry.high), 'end')
  );
  svg.appendChild(label(PAD.left - 4, bottom, axisLabel(geometry.low), 'end'));
  svg.appendChild(label(PAD.left, HEIGHT - 6, '0', 'start'));
  svg.appendChild(
    label(WIDTH - PAD.right, HEIGHT - 6, `trial ${geometry.trials - 1}`, 'end')
  );
  return svg;
}

/** A number in at most 4 significant digits. */
export function fmt(value: number | null): string {
  if (value === null || !isFinite(value)) {
    return '-';
  }
  return Number(value.toPrecision(4)).toString();
}

/**
 * A y-axis value that fits the chart's left margin (about 8 characters): as
 * fmt, or in exponent form where that is longer than 7 characters
 * (0.00004285 -> 4.29e-5, 123500000 -> 1.24e+8).
 */
export function axisLabel(value: number): string {
  const plain = fmt(value);
  if (plain.length <= 7) {
    return plain;
  }
  return value.toExponential(2);
}

function label(x: number, y: number, text: string, anchor: string): Element {
  const node = svgElement('text', {
    class: 'hptaa-Chart-label',
    x,
    y,
    'text-anchor': anchor
  });
  node.textContent = text;
  return node;
}

function svgElement(
  tag: string,
  attributes: Record<string, string | number>
): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, String(value));
  }
  return node;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
