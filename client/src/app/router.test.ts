import { describe, expect, it } from 'vitest';
import { href, parseRoute } from './router.ts';

describe('hash routes', () => {
  it('reads each screen, defaulting to the inbox', () => {
    expect(parseRoute('')).toEqual({ screen: 'inbox' });
    expect(parseRoute('#/caseload')).toEqual({ screen: 'caseload' });
    expect(parseRoute('#/person/p-1.a')).toEqual({ screen: 'person', id: 'p-1.a' });
    expect(parseRoute('#/tasks/team')).toEqual({ screen: 'tasks', view: 'team' });
    expect(parseRoute('#/tasks')).toEqual({ screen: 'tasks', view: 'mine' });
    expect(href({ screen: 'person', id: 'p1' })).toBe('#/person/p1');
  });

  it('takes only a FHIR logical id for a person (nothing else belongs in the address)', () => {
    expect(parseRoute('#/person/Margaret%20Hughes')).toEqual({ screen: 'not-found' });
    expect(parseRoute('#/person/')).toEqual({ screen: 'not-found' });
    expect(parseRoute('#/elsewhere')).toEqual({ screen: 'not-found' });
  });
});
