import { describe, expect, it } from 'vitest';

import { checkHelmRepoUrl, releaseOf } from './helm-source.ts';

describe('releaseOf', () => {
  it('defaults to <chart>-<uid prefix> and the chart’s values', () => {
    expect(releaseOf('web', 'abcdef-123', undefined)).toEqual({ releaseName: 'web-abcde' });
  });

  it('takes the alias and the values of `path: spec` of the chart’s overrides', () => {
    expect(
      releaseOf('web', 'abcdef', [
        {
          packageName: 'other',
          packageAlias: 'no',
          packageOverrides: [{ path: 'spec', value: { a: 0 } }],
        },
        {
          packageName: 'web',
          packageAlias: 'site',
          packageOverrides: [
            { path: 'metadata', value: {} },
            { path: 'spec', value: { replicas: 2 } },
          ],
        },
      ]),
    ).toEqual({ releaseName: 'site', values: { replicas: 2 } });
  });

  it('refuses values that are not a map', () => {
    expect(() =>
      releaseOf('web', 'u', [
        { packageName: 'web', packageOverrides: [{ path: 'spec', value: 3 }] },
      ]),
    ).toThrow('packageOverrides of chart "web": the value of path "spec" must be a map of values');
  });
});

describe('checkHelmRepoUrl', () => {
  it.each([
    {
      url: 'file:///srv/charts',
      message:
        'channel pathname "file:///srv/charts" uses file; Helm repositories are read over http(s) only',
    },
    {
      url: 'oci://registry/charts',
      message:
        'channel pathname "oci://registry/charts" uses oci; Helm repositories are read over http(s) only',
    },
    { url: 'charts', message: 'channel pathname "charts" is not a URL' },
    {
      url: 'https://u:p@charts.example.com',
      message:
        'channel pathname of host charts.example.com carries credentials; they are not accepted in URLs',
    },
  ])('refuses $url', ({ url, message }) => {
    expect(() => checkHelmRepoUrl(url)).toThrow(message);
  });
});
