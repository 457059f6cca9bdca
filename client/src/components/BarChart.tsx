/**
 * A small horizontal bar chart in SVG (no library): each bar labelled with its category and its value in
 * words, so colour is never the only cue; the whole chart is one image named by its text summary, and the
 * caller puts the same numbers in a table beside it. No inline styles (the page's CSP forbids them).
 */
export interface Bar {
  label: string;
  /** undefined: no bar, only the words (e.g. "not available to you", "no score"). */
  value?: number;
  valueText: string;
}

const WIDTH = 640;
const LABEL = 280;
const VALUE = 130;
const ROW = 26;

const clip = (s: string, n = 44) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function BarChart({
  title,
  summary,
  bars,
  scale,
}: {
  title: string;
  summary: string;
  bars: Bar[];
  scale?: number;
}) {
  const max = scale ?? Math.max(0, ...bars.map((b) => b.value ?? 0));
  const room = WIDTH - LABEL - VALUE;
  const height = bars.length * ROW + 8;
  return (
    <figure className="chart">
      <figcaption>
        <strong>{title}</strong>
        <span className="sub">{summary}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label={`${title}. ${summary}`}
        preserveAspectRatio="xMinYMin meet"
      >
        {bars.map((b, i) => {
          const y = 4 + i * ROW;
          const w = b.value !== undefined && max > 0 ? Math.max((b.value / max) * room, b.value > 0 ? 2 : 0) : 0;
          return (
            <g key={b.label} aria-hidden="true">
              <text x={LABEL - 8} y={y + ROW / 2 + 4} textAnchor="end" className="chart-label">
                {clip(b.label)}
              </text>
              <rect
                x={LABEL}
                y={y + 3}
                width={w}
                height={ROW - 8}
                className={b.value === undefined ? 'bar bar-none' : 'bar'}
              />
              <text x={LABEL + w + 6} y={y + ROW / 2 + 4} className="chart-value">
                {b.valueText}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
