/**
 * Screen 6, the population view: the risk segments and the complex-needs cohort (the Groups made by
 * $stratify, as far as the user may see them) and the equity breakdown of Hearth's Measures by deprivation
 * decile and ethnicity ($evaluate-measure over a period the user chooses).
 */
import { Equity } from './Equity.tsx';
import { Segments } from './Segments.tsx';

export function Population() {
  return (
    <>
      <h1>Population view</h1>
      <p className="lede">
        Counts are of the people you may see. No small-number suppression is applied: do not publish these figures
        outside the care team as they are.
      </p>
      <Segments />
      <Equity />
    </>
  );
}
