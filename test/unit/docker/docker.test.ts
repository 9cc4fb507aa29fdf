import { describe, expect, it } from 'vitest'
import { dockerVersion, gitDescribe, imageRefs, imageRemove, imagesByLabels, psByLabels } from '../../../src/docker/docker.js'

describe('docker argv builders', () => {
  it('version prints json', () => {
    expect(dockerVersion()).toEqual(['docker', 'version', '--format', '{{json .}}'])
  })

  it('ps filters on every label, includes stopped containers, does not truncate', () => {
    expect(psByLabels(['com.docker.compose.project=shop-staging', 'berth.app=shop', 'berth.env=staging'])).toEqual([
      'docker', 'ps', '--all', '--no-trunc',
      '--filter', 'label=com.docker.compose.project=shop-staging',
      '--filter', 'label=berth.app=shop',
      '--filter', 'label=berth.env=staging',
      '--format', '{{json .}}',
    ])
  })

  it('ps accepts a bare label key (presence filter)', () => {
    expect(psByLabels(['berth.app'])).toEqual(['docker', 'ps', '--all', '--no-trunc', '--filter', 'label=berth.app', '--format', '{{json .}}'])
  })

  it('image ls filters on labels', () => {
    expect(imagesByLabels(['berth.app=shop', 'berth.release=20261122-093000'])).toEqual([
      'docker', 'image', 'ls',
      '--filter', 'label=berth.app=shop',
      '--filter', 'label=berth.release=20261122-093000',
      '--format', '{{json .}}',
    ])
  })

  it('image refs are repository:tag lines', () => {
    expect(imageRefs()).toEqual(['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
  })

  it('image rm names each image', () => {
    expect(imageRemove(['shop-web:20261121-170512', 'registry:5000/team/web:20261121-170512'])).toEqual([
      'docker', 'image', 'rm', 'shop-web:20261121-170512', 'registry:5000/team/web:20261121-170512',
    ])
  })

  it('git describe marks a dirty checkout', () => {
    expect(gitDescribe()).toEqual(['git', 'describe', '--always', '--dirty'])
  })
})
