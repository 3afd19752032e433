import { describe, expect, it, vi } from 'vitest';
import { IpcRefusedError, guardHandler, noArgs, type ArgsParser } from '../../../src-main/ipc/guard';

const APP = 'file:///app/out/renderer/index.html';
const fromApp = { senderFrame: { url: `${APP}#/` } };

describe('guardHandler', () => {
  it('runs the handler for the app page and returns its result', () => {
    const handler = vi.fn(() => 42);
    expect(guardHandler('x:y', APP, noArgs, handler)(fromApp)).toBe(42);
    expect(handler).toHaveBeenCalledWith();
  });

  it('refuses a sender outside the app before running the handler', () => {
    const handler = vi.fn(() => 42);
    const guarded = guardHandler('x:y', APP, noArgs, handler);
    expect(() => guarded({ senderFrame: { url: 'https://evil.example/' } })).toThrow(IpcRefusedError);
    expect(() => guarded({ senderFrame: { url: 'https://evil.example/' } })).toThrow(/x:y: refused a call from https:\/\/evil/);
    expect(() => guarded({ senderFrame: null })).toThrow(/destroyed frame/);
    expect(handler).not.toHaveBeenCalled();
  });

  it('refuses arguments the parser rejects, naming the channel', () => {
    const handler = vi.fn(() => 42);
    const guarded = guardHandler('x:y', APP, noArgs, handler);
    expect(() => guarded(fromApp, 'surprise')).toThrow(/x:y: bad arguments: expected no arguments, got 1/);
    expect(handler).not.toHaveBeenCalled();
  });

  it('passes parsed arguments through to the handler', () => {
    const parse: ArgsParser<[number]> = (args) => {
      if (typeof args[0] !== 'number') throw new Error('want a number');
      return [args[0]];
    };
    const guarded = guardHandler('x:double', APP, parse, (n) => n * 2);
    expect(guarded(fromApp, 21)).toBe(42);
    expect(() => guarded(fromApp, '21')).toThrow(/want a number/);
  });
});
