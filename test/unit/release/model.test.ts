import { describe, expect, it } from 'vitest'
import {
  builtServices,
  type ComposeModel,
  oneOffServices,
  publishedPorts,
  releaseImage,
  releaseOverride,
  repositoryOf,
} from '../../../src/release/model.js'
import { LABEL } from '../../../src/names.js'

const TAG = '20261122-093000'

/** Shaped like `docker compose config --format json` output. */
const model: ComposeModel = {
  name: 'shop-staging',
  services: {
    web: {
      build: { context: '/srv/shop/web', dockerfile: 'Dockerfile' },
      ports: [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp' }],
      depends_on: {
        db: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
        seed: { condition: 'service_started' },
      },
      healthcheck: { test: ['CMD', 'wget', '-qO-', 'http://localhost/health'] },
    },
    api: {
      build: { context: '/srv/shop/api' },
      image: 'registry:5000/team/web:1.2',
      restart: 'always',
      ports: [{ target: 9000, published: '9000' }],
    },
    db: {
      image: 'postgres:16',
      ports: [{ target: 5432 }, { target: 5433, published: '' }],
      healthcheck: { test: ['CMD-SHELL', 'pg_isready'] },
    },
    migrate: { build: { context: '/srv/shop/web' } },
    seed: { image: 'shop-seed:1', restart: 'no' },
    cron: { image: 'alpine:3', restart: 'no' },
    worker: { image: 'busybox:1.36', depends_on: { seed: { condition: 'service_started' } } },
  },
}

describe('repositoryOf', () => {
  it('strips the tag', () => {
    expect(repositoryOf('postgres:16')).toBe('postgres')
    expect(repositoryOf('team/web:1.2')).toBe('team/web')
  })

  it('does not take a registry port for a tag', () => {
    expect(repositoryOf('registry:5000/team/web:1.2')).toBe('registry:5000/team/web')
    expect(repositoryOf('registry:5000/team/web')).toBe('registry:5000/team/web')
    expect(repositoryOf('localhost:5000/web')).toBe('localhost:5000/web')
  })

  it('strips a digest', () => {
    expect(repositoryOf('web@sha256:abc')).toBe('web')
    expect(repositoryOf('registry:5000/web:1@sha256:abc')).toBe('registry:5000/web')
  })

  it('leaves an untagged name alone', () => {
    expect(repositoryOf('postgres')).toBe('postgres')
  })
})

describe('oneOffServices', () => {
  it('finds services waited on to complete and restart "no" services others depend on', () => {
    expect([...oneOffServices(model)].sort()).toEqual(['migrate', 'seed'])
  })

  it('a restart "no" service nobody depends on is not one-off', () => {
    expect(oneOffServices(model).has('cron')).toBe(false)
  })

  it('is empty without depends_on', () => {
    expect(oneOffServices({ services: { a: { image: 'x' }, b: { image: 'y', restart: 'no' } } }).size).toBe(0)
  })
})

describe('builtServices', () => {
  it('lists services with build:', () => {
    expect(builtServices(model)).toEqual(['web', 'api', 'migrate'])
  })
})

describe('releaseImage', () => {
  it('names the image after app and service, or after the service image repository', () => {
    expect(releaseImage('shop', 'web', { build: {} }, TAG)).toBe(`shop-web:${TAG}`)
    expect(releaseImage('shop', 'api', { build: {}, image: 'registry:5000/team/web:1.2' }, TAG)).toBe(`registry:5000/team/web:${TAG}`)
  })
})

describe('releaseOverride', () => {
  const out = releaseOverride(model, { app: 'shop', env: 'staging', tag: TAG, git: 'v1.4.0-3-gabc1234-dirty' })
  const svc = out.override.services

  it('pins built services without image: to <app>-<service>:<tag>', () => {
    expect(svc.web?.image).toBe(`shop-web:${TAG}`)
    expect(svc.migrate?.image).toBe(`shop-migrate:${TAG}`)
    expect(out.images.web).toBe(`shop-web:${TAG}`)
  })

  it('pins a built service with image: to <repository>:<tag>, registry port kept', () => {
    expect(svc.api?.image).toBe(`registry:5000/team/web:${TAG}`)
    expect(out.images.api).toBe(`registry:5000/team/web:${TAG}`)
  })

  it('leaves non-built services on their own image', () => {
    expect(svc.db).not.toHaveProperty('image')
    expect(svc.db).not.toHaveProperty('build')
    expect(out.images.db).toBe('postgres:16')
    expect(out.images.worker).toBe('busybox:1.36')
  })

  it('lists exactly the built images', () => {
    expect(out.builtImages).toEqual([`shop-web:${TAG}`, `registry:5000/team/web:${TAG}`, `shop-migrate:${TAG}`])
    expect(out.builtImages).not.toContain('postgres:16')
  })

  it('labels every container with app, env and release', () => {
    expect(Object.keys(svc).sort()).toEqual(Object.keys(model.services).sort())
    for (const [name, entry] of Object.entries(svc)) {
      expect(entry.labels, name).toEqual({ 'berth.app': 'shop', 'berth.env': 'staging', 'berth.release': TAG })
    }
  })

  it('labels built images with app, release, service and git — but not env (images are promoted)', () => {
    expect(svc.web?.build).toEqual({
      labels: { [LABEL.app]: 'shop', [LABEL.release]: TAG, [LABEL.service]: 'web', [LABEL.git]: 'v1.4.0-3-gabc1234-dirty' },
    })
    expect(svc.api?.build).toEqual({ labels: { 'berth.app': 'shop', 'berth.release': TAG, 'berth.service': 'api', 'berth.git': 'v1.4.0-3-gabc1234-dirty' } })
  })

  it('omits berth.git outside a git checkout', () => {
    const noGit = releaseOverride(model, { app: 'shop', env: 'staging', tag: TAG })
    expect(noGit.override.services.web?.build).toEqual({ labels: { 'berth.app': 'shop', 'berth.release': TAG, 'berth.service': 'web' } })
  })

  it('adds restart: unless-stopped only where missing, never to one-off services', () => {
    expect(out.restartAdded.sort()).toEqual(['db', 'web', 'worker'])
    expect(svc.web?.restart).toBe('unless-stopped')
    expect(svc.db?.restart).toBe('unless-stopped')
    expect(svc.worker?.restart).toBe('unless-stopped')
    expect(svc.api).not.toHaveProperty('restart') // has always
    expect(svc.cron).not.toHaveProperty('restart') // has "no" of its own
    expect(svc.migrate).not.toHaveProperty('restart') // waited on to complete
    expect(svc.seed).not.toHaveProperty('restart') // restart "no", depended on
  })

  it('does not change the model it was given', () => {
    const copy = structuredClone(model)
    releaseOverride(model, { app: 'shop', env: 'production', tag: TAG })
    expect(model).toEqual(copy)
  })
})

describe('publishedPorts', () => {
  it('lists published ports with host ip and protocol', () => {
    expect(publishedPorts(model)).toEqual([
      { service: 'web', port: '8080', hostIp: '127.0.0.1', protocol: 'tcp' },
      { service: 'api', port: '9000', hostIp: '', protocol: 'tcp' },
    ])
  })

  it('ignores container-only ports', () => {
    expect(publishedPorts({ services: { db: { image: 'postgres:16', ports: [{ target: 5432 }] } } })).toEqual([])
  })

  it('keeps udp apart', () => {
    expect(publishedPorts({ services: { dns: { image: 'coredns', ports: [{ target: 53, published: '53', protocol: 'udp' }] } } })).toEqual([
      { service: 'dns', port: '53', hostIp: '', protocol: 'udp' },
    ])
  })
})
