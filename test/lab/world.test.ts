import { describe, expect, it } from 'vitest';
import { loadWorld, parseWorld, WorldFileError } from '../../src/data/world.js';

describe('world file', () => {
  it('loads the default world: example.com local, example.net remote with its MX', () => {
    const w = loadWorld();
    expect(w.hostname).toBe('mx.example.com');
    expect(w.localDomain).toBe('example.com');
    expect(w.domains.get('example.com')!.mailboxes).toEqual(['alice', 'bob', 'postmaster']);
    expect(w.domains.get('example.net')!.mx).toEqual([{ preference: 10, host: 'mx.example.net' }]);
    expect(w.domains.get('example.org')!.behaviour).toBe('greylist');
    expect(w.domains.get('down.example')!.behaviour).toBe('down');
    expect(w.domains.has('nowhere.invalid')).toBe(false);
  });

  it('names the file and line of a bad value', () => {
    const text = ['hostname: mx.example.com', 'domains:', '  example.com:', '    local: true', '    mailboxes: [alice]', '  example.net:', '    behaviour: sometimes'].join('\n');
    expect(() => parseWorld(text, 'w.yaml')).toThrow(WorldFileError);
    expect(() => parseWorld(text, 'w.yaml')).toThrow(/^w\.yaml:7: behaviour of example\.net must be one of/);
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseWorld('domains:\n  example.com: [\n', 'w.yaml')).toThrow(/^w\.yaml:\d+: /);
  });

  it('merges a lesson\'s overrides over the file', () => {
    const w = loadWorld(undefined, { domains: { 'example.net': { behaviour: 'greylist' } } });
    expect(w.domains.get('example.net')!.behaviour).toBe('greylist');
    expect(w.domains.get('example.net')!.mailboxes).toContain('dave');
  });
});
