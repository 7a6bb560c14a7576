/**
 * The hand-written SHA-512 crypt against hashes made by other implementations: Dovecot's `doveadm pw -s
 * SHA512-CRYPT`, OpenSSL's `openssl passwd -6`, and the test vectors of Drepper's specification.
 */
import { describe, expect, test } from 'vitest';
import { parseSha512Crypt, sha512Crypt } from '../../../src/store/accounts/password-sha512-crypt.js';

const VECTORS: readonly [password: string, hash: string, source: string][] = [
  ['correct horse', '$6$JjeEITPybGbyQxDp$XhDWg34lR5GaVAhuyminwh2AjwSfCSsTAKfEvchrFsbKEJZBic4osLNIksG7p0EnYkRCdoYUPYSaBjORGc5aK0', 'doveadm pw'],
  ['pässwörd:with:colons', '$6$lRrWPaO0.zUXRrRQ$bkH3Co79bdiBg3ssRdcC.sKe8Af8PybOjunhZlfp2/.E2HZ6StfCU9Q8ZmMorY.MnH/UeeNov79fDSSXIuxRE1', 'doveadm pw, UTF-8'],
  ['correct horse', '$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/uamSo5z0', 'openssl passwd -6'],
  ['x', '$6$rounds=1000$abc$zaWpAwySRl8PX4W2aEMJwxpN82bCKtDZP0RBdOD6W7BQlilBqAsWnAZuS10iUyJZneS8Ob1gxs1BZkqJi1nTi.', 'openssl passwd -6, rounds'],
  // The specification's own vectors (salt longer than 16 characters is cut; rounds below 1000 become 1000).
  ['Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1', 'specification'],
  ['Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.', 'specification, rounds'],
  ['we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0', 'specification'],
  ['a short string', '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1', 'specification'],
  ['the minimum number is still observed', '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.', 'specification, rounds clamped'],
];

describe('sha512-crypt', () => {
  test.each(VECTORS)('%s → %s (%s)', async (password, hash) => {
    const setting = parseSha512Crypt(hash);
    if (typeof setting === 'string') throw new Error(setting);
    expect(await sha512Crypt(Buffer.from(password, 'utf8'), setting)).toBe(hash);
  });

  test('a wrong password gives another digest', async () => {
    const [, hash] = VECTORS[0] ?? ['', ''];
    const setting = parseSha512Crypt(hash);
    if (typeof setting === 'string') throw new Error(setting);
    expect(await sha512Crypt(Buffer.from('correct horsf'), setting)).not.toBe(hash);
  });

  test.each(['', '$6$', '$5$abc$' + 'a'.repeat(43), '$6$abc$short', '$6$rounds=x$abc$' + 'a'.repeat(86)])('not a hash: %j', (text) => {
    expect(typeof parseSha512Crypt(text)).toBe('string');
  });
});
