import { describe, expect, it } from 'vitest'

import { isLoopback, listenersOnPort } from '../../../src/edge/listeners.js'

const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const tcp =
  header +
  '   0: 0100007F:4AF6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 944663 1 0 100 0 0 10 0\n' +
  '   1: 00000000:4AF6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 944664 1 0 100 0 0 10 0\n' +
  '   2: 0100007F:4AF6 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 944665 1 0 100 0 0 10 0\n' +
  '   3: 0100007F:07E3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 944666 1 0 100 0 0 10 0\n'
const tcp6 =
  header +
  '   0: 00000000000000000000000001000000:4AF6 00000000000000000000000000000000:0000 0A 0:0 00:00000000 00000000 0 0 1 1 0 100 0 0 10 0\n' +
  '   1: 00000000000000000000000000000000:4AF6 00000000000000000000000000000000:0000 0A 0:0 00:00000000 00000000 0 0 2 1 0 100 0 0 10 0\n' +
  '   2: 0000000000000000FFFF00000100007F:4AF6 00000000000000000000000000000000:0000 0A 0:0 00:00000000 00000000 0 0 3 1 0 100 0 0 10 0\n'

describe('listenersOnPort', () => {
  it('decodes the listening sockets of one port from /proc/net/tcp, skipping connections and other ports', () => {
    expect(listenersOnPort(tcp, 19190)).toEqual(['127.0.0.1:19190', '0.0.0.0:19190'])
    expect(listenersOnPort(tcp, 2019)).toEqual(['127.0.0.1:2019'])
    expect(listenersOnPort(tcp, 80)).toEqual([])
  })

  it('decodes IPv6 addresses from /proc/net/tcp6', () => {
    expect(listenersOnPort(tcp6, 19190)).toEqual(['[::1]:19190', '[::]:19190', '[::ffff:127.0.0.1]:19190'])
  })

  it('tells loopback addresses from the others', () => {
    expect(['127.0.0.1:2019', '[::1]:2019', '[::ffff:127.0.0.1]:2019'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0:2019', '[::]:2019', '10.0.0.5:2019'].some(isLoopback)).toBe(false)
  })
})
