import { parseLabelSelector } from './labelSelector';
import {
  canonicalEntityRef,
  checkOwnership,
  ENTITY_REF_ANNOTATION,
  pinnedPatch,
  writeSelectorRefusal,
} from './ownership';
import { demoDeployment } from './testFixtures';

const ENTITY = 'component:default/fastapi-demo';

function owned(by?: string) {
  const d = demoDeployment('blue');
  if (by !== undefined) {
    d.metadata!.annotations = {
      ...d.metadata!.annotations,
      [ENTITY_REF_ANNOTATION]: by,
    };
  }
  return d;
}

describe('canonicalEntityRef', () => {
  it('lower-cases a full ref, as the catalog compares refs', () => {
    expect(canonicalEntityRef(' Component:Default/FastAPI-Demo ')).toBe(
      'component:default/fastapi-demo',
    );
  });

  it.each([
    'fastapi-demo',
    'component:fastapi-demo',
    'default/fastapi-demo',
    'component:default/fastapi demo',
    'component:default/a/b',
    // Only the whole text counts, not a ref at its end.
    'x component:default/fastapi-demo',
    'a:component:default/fastapi-demo',
    '',
  ])('rejects the partial or malformed ref %j', text => {
    expect(canonicalEntityRef(text)).toBeUndefined();
  });
});

describe('checkOwnership', () => {
  it('accepts an object that names the entity, in any letter case', () => {
    expect(
      checkOwnership(owned('Component:default/FastAPI-Demo'), ENTITY),
    ).toEqual({
      owned: true,
      annotationValue: 'Component:default/FastAPI-Demo',
    });
  });

  it('refuses an object without the annotation and says who must set it', () => {
    const result = checkOwnership(owned(), ENTITY);
    expect(result.owned).toBe(false);
    expect(result).toMatchObject({
      reason: expect.stringContaining(
        `no '${ENTITY_REF_ANNOTATION}' annotation`,
      ),
    });
    expect(result).toMatchObject({
      reason: expect.stringContaining(`set the annotation to ${ENTITY}`),
    });
  });

  it('refuses an object of another entity, even with the same name in another namespace or kind', () => {
    for (const other of [
      'component:default/evil',
      'component:team-a/fastapi-demo',
      'resource:default/fastapi-demo',
      'fastapi-demo',
    ]) {
      expect(checkOwnership(owned(other), ENTITY)).toEqual({
        owned: false,
        reason: expect.stringContaining(`belongs to '${other}'`),
      });
    }
  });

  it('refuses when the acting entity ref itself is not a full ref', () => {
    expect(checkOwnership(owned(ENTITY), 'fastapi-demo').owned).toBe(false);
    // Two refs that are not full refs are not the same entity.
    expect(checkOwnership(owned('fastapi-demo'), 'fastapi-demo').owned).toBe(
      false,
    );
  });

  it('names an object without kind or metadata as it can', () => {
    expect(checkOwnership({}, ENTITY)).toEqual({
      owned: false,
      reason: `Object undefined/undefined has no '${ENTITY_REF_ANNOTATION}' annotation, so the cluster does not say which entity may change it. Whoever deploys it must set the annotation to ${ENTITY}.`,
    });
  });
});

describe('pinnedPatch', () => {
  it('tests the UID and the ownership annotation before the change', () => {
    const d = owned('Component:default/fastapi-demo');
    const patch = pinnedPatch(
      d,
      { annotationValue: 'Component:default/fastapi-demo' },
      [{ op: 'replace', path: '/spec/replicas', value: 3 }],
    );
    expect(patch).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-demo-api-blue' },
      {
        op: 'test',
        path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
        value: 'Component:default/fastapi-demo',
      },
      { op: 'replace', path: '/spec/replicas', value: 3 },
    ]);
  });

  it('refuses to pin an object that has no UID', () => {
    const d = owned(ENTITY);
    delete d.metadata!.uid;
    expect(() => pinnedPatch(d, { annotationValue: ENTITY }, [])).toThrow(
      /without metadata.uid/,
    );
    expect(() => pinnedPatch({}, { annotationValue: ENTITY }, [])).toThrow(
      /without metadata.uid/,
    );
  });
});

describe('writeSelectorRefusal', () => {
  it.each([
    ['a=b'],
    ['a==b'],
    ['a in (b, c)'],
    ['!legacy,app=demo'],
    ['app=demo,env!=prod'],
  ])('accepts %j, which pins a label to a value', text => {
    expect(writeSelectorRefusal(parseLabelSelector(text))).toBeUndefined();
  });

  it.each([[' '], [','], [' , ,']])(
    'refuses the empty selector %j (matches everything)',
    text => {
      expect(writeSelectorRefusal(parseLabelSelector(text))).toMatch(
        /empty.*matches every object/,
      );
    },
  );

  it('refuses an In requirement without values', () => {
    expect(
      writeSelectorRefusal({
        matchExpressions: [{ key: 'a', operator: 'In' }],
      }),
    ).toMatch(/pins no label to a value/);
  });

  it.each([['!x'], ['a!=b'], ['a notin (b)'], ['a'], ['a,!b'], ['a in ()']])(
    'refuses %j, which pins no label to a value',
    text => {
      expect(writeSelectorRefusal(parseLabelSelector(text))).toMatch(
        /pins no label to a value/,
      );
    },
  );
});
