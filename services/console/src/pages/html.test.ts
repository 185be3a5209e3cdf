import { describe, expect, it } from 'vitest';
import { html } from './html.js';

describe('html', () => {
  it('escapes what a request carries, so script stays text', () => {
    const justification = '<script>alert(1)</script>" onmouseover="x\'`';
    expect(html`<p title="${justification}">${justification}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x&#39;&#96;">&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x&#39;&#96;</p>',
    );
  });

  it('nests markup it built itself, and lists of it, without escaping them twice', () => {
    const rows = ['a&b', 'c'].map((text) => html`<li>${text}</li>`);
    expect(html`<ul>${rows}</ul>`.value).toBe('<ul><li>a&amp;b</li><li>c</li></ul>');
  });

  it('leaves out undefined, null and false', () => {
    expect(html`<p>${undefined}${null}${false}${0}</p>`.value).toBe('<p>0</p>');
  });
});
