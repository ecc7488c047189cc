import { describe, expect, it } from 'vitest';
import { firstTokens, lastTokens, macOui, maskAddress, uriPart } from './keys.js';
import { ouiName } from './oui.js';
import { functionSymbol } from './sample.js';

describe('key function helpers', () => {
  it('prefix / suffix tokens', () => {
    expect(firstTokens('eth.ip.udp.vxlan', '.', 2)).toBe('eth.ip');
    expect(firstTokens('eth.ip', '.', 5)).toBe('eth.ip');
    expect(lastTokens('web.shop.svc.cluster.local.', '.', 2)).toBe('local.');
    expect(lastTokens('web.shop.svc.cluster.local.', '.', 4)).toBe('svc.cluster.local.');
    expect(lastTokens('a.b', '.', 5)).toBe('a.b');
    expect(lastTokens('a::b::c', '::', 2)).toBe('b::c');
  });

  it('mask', () => {
    expect(maskAddress('10.1.2.3', 24)).toBe('10.1.2.0');
    expect(maskAddress('10.1.2.3', 0)).toBe('0.0.0.0');
    expect(maskAddress('192.168.255.255', 17)).toBe('192.168.128.0');
    expect(maskAddress('2001:db8:1:2:3::1', 48)).toBe('2001:db8:1::');
    expect(maskAddress('fe80::1', 128)).toBe('fe80::1');
    expect(maskAddress('::ffff:10.1.2.3', 120)).toBe('::ffff:a01:200');
    expect(maskAddress('not-an-ip', 8)).toBeUndefined();
  });

  it('uri parts', () => {
    const u = 'http://user@localhost:8008/metrics/json.gz?x=1#top';
    expect(uriPart(u, 'scheme')).toBe('http');
    expect(uriPart(u, 'host')).toBe('localhost');
    expect(uriPart(u, 'port')).toBe('8008');
    expect(uriPart(u, 'path')).toBe('/metrics/json.gz');
    expect(uriPart(u, 'file')).toBe('json.gz');
    expect(uriPart(u, 'extension')).toBe('gz');
    expect(uriPart(u, 'query')).toBe('x=1');
    expect(uriPart(u, 'fragment')).toBe('top');
    expect(uriPart('/index.html', 'path')).toBe('/index.html');
    expect(uriPart('/index.html', 'isabsolute')).toBe('false');
  });

  it('oui, kernel symbols', () => {
    expect(macOui('00:50:56:aa:bb:cc')).toBe('005056');
    expect(macOui('005056AABBCC')).toBe('005056');
    expect(ouiName('005056')).toBe('VMware');
    expect(ouiName('0A0000')).toBe('locally administered');
    expect(ouiName('F8F8F8')).toBeUndefined();
    expect(functionSymbol('__udp4_lib_rcv+0xbed/0xd90')).toBe('__udp4_lib_rcv');
    expect(functionSymbol('kfree_skb')).toBe('kfree_skb');
  });
});
