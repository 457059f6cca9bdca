/** Screen 6, the population view: not built in this release (its data comes from the population health work). */
export function Population() {
  return (
    <>
      <h1>Population view</h1>
      <p>
        Risk segments, the complex-needs cohort and the equity breakdown (by deprivation decile and ethnicity) will be
        shown here once Hearth&rsquo;s population health stratification publishes them through the FHIR API. This screen
        is not part of this release.
      </p>
    </>
  );
}
