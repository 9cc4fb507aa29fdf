import { describe, expect, it } from 'vitest'

import { containerEvents, dockerVersion, inspectState, psAll, psByLabels } from '../../../src/docker/docker.js'
import { apiReadOf, apiStreamOf, displayablePorts, filtersQuery, goTimeString, psRow, renderEngineId } from '../../../src/docker/engineApi.js'
import { SHELL_ENGINE } from '../../../src/docker/engine.js'

describe('the Engine API requests the argv builders carry', () => {
  it('a label listing asks /containers/json with every label filter; the argv itself is unchanged', () => {
    const argv = psByLabels(SHELL_ENGINE, ['a=b', 'c'])
    expect(argv).toEqual(['docker', 'ps', '--all', '--no-trunc', '--filter', 'label=a=b', '--filter', 'label=c', '--format', '{{json .}}'])
    expect(apiReadOf(argv)?.gets).toEqual([{ path: `/containers/json?all=1&${filtersQuery([['label', 'a=b'], ['label', 'c']])}` }])
    expect(apiReadOf(psAll(SHELL_ENGINE))?.gets).toEqual([{ path: '/containers/json?all=1' }])
  })

  it('a copy of an argv carries nothing: it runs as the CLI', () => {
    expect(apiReadOf([...psAll(SHELL_ENGINE)])).toBeUndefined()
  })

  it('version asks /_ping (its Server header) and /info (the ID, kept per socket); inspect one path per container; events stream', () => {
    expect(apiReadOf(dockerVersion(SHELL_ENGINE))?.gets).toEqual([{ path: '/_ping', header: 'server' }, { path: '/info', keep: ['ID'] }])
    expect(apiReadOf(inspectState(SHELL_ENGINE, 'a b'))?.gets).toEqual([{ path: '/containers/a%20b/json', missing: 'Error response from daemon: No such container: a b' }])
    const events = containerEvents(SHELL_ENGINE, ['p=x'])
    expect(apiReadOf(events)).toBeUndefined()
    const filters = JSON.parse(decodeURIComponent(apiStreamOf(events)!.path.split('filters=')[1]!)) as Record<string, Record<string, boolean>>
    expect(filters.label).toEqual({ 'p=x': true })
    expect(events).toEqual(expect.arrayContaining(['events', '--filter', 'type=container', 'label=p=x', 'event=health_status']))
  })

  it('filters group values by key, as the CLI sends them', () => {
    expect(JSON.parse(decodeURIComponent(filtersQuery([['label', 'a'], ['network', 'n1'], ['network', 'n2']]).slice('filters='.length)))).toEqual({ label: { a: true }, network: { n1: true, n2: true } })
    expect(filtersQuery([])).toBe('')
  })
})

describe('docker ps as the CLI prints it', () => {
  it('ports: unpublished and same-number ranges grouped, then host mappings (docker/cli DisplayablePorts)', () => {
    expect(
      displayablePorts([
        { IP: '127.0.0.1', PrivatePort: 80, PublicPort: 19990, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 19996, PublicPort: 19996, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 19995, PublicPort: 19995, Type: 'tcp' },
        { IP: '::', PrivatePort: 19995, PublicPort: 19995, Type: 'tcp' },
        { IP: '::', PrivatePort: 19996, PublicPort: 19996, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' },
      ]),
    ).toBe('9000/tcp, 0.0.0.0:19995-19996->19995-19996/tcp, [::]:19995-19996->19995-19996/tcp, 127.0.0.1:19990->80/tcp')
    expect(displayablePorts([{ IP: '0.0.0.0', PrivatePort: 53, PublicPort: 1053, Type: 'udp' }])).toBe('0.0.0.0:1053->53/udp')
    expect(displayablePorts([])).toBe('')
  })

  it('a row: names without their slash, sorted networks, labels as they are, Go time', () => {
    expect(psRow({ Id: 'x', Names: ['/a'], Image: '', State: 'exited', Status: 'Exited (0) 1 second ago', Labels: null, Created: 0, NetworkSettings: { Networks: { b: {}, a: {} } } })).toMatchObject({
      ID: 'x',
      Names: 'a',
      Image: '<no image>',
      Labels: {},
      Networks: 'a,b',
    })
    expect(goTimeString(0)).toMatch(/^19(70-01-01|69-12-31) \d\d:\d\d:00 [+-]\d{4} \S+$/)
  })
})

describe('renderEngineId', () => {
  it("prints the engine's ID as docker info --format '{{json .ID}}' does, and an empty string without one", () => {
    expect(renderEngineId([{ ID: 'ABCD:EFGH' }])).toBe('"ABCD:EFGH"')
    expect(renderEngineId([{}])).toBe('""')
    expect(renderEngineId([undefined])).toBe('""')
  })
})
