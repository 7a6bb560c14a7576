/**
 * The classic relay tricks as an attacker types them inside RCPT TO:<...>, each with the refusal expected
 * from an unauthenticated client outside mynetworks when the local domains are local.example, localhost
 * and bücher.example: 'denied' (554 5.7.1 Relay access denied) or 'syntax' (501 5.1.3). Shared by the
 * pure tests (relay-policy.test.ts) and the wire test (relay-wire.test.ts).
 */
export const TRICKS: readonly (readonly [string, 'denied' | 'syntax'])[] = [
  ['user@other.example', 'denied'],
  ['user@Other.Example', 'denied'],
  ['USER@OTHER.EXAMPLE', 'denied'],
  ['user@other.example.', 'denied'],
  ['user@sub.local.example', 'denied'],
  ['user@local.example.other.example', 'denied'],
  ['user@localhost.other.example', 'denied'],
  ['user@xn--bcher-kva.other.example', 'denied'],
  // percent hack
  ['user%other.example@local.example', 'denied'],
  ['user%other.example@LOCAL.EXAMPLE', 'denied'],
  ['user%other.example%local.example@local.example', 'denied'],
  ['user%other.example.@local.example', 'syntax'],
  ['user%[192.0.2.1]@local.example', 'syntax'],
  ['user%other.example@localhost', 'denied'],
  ['user%local.example@local.example', 'denied'],
  // bang paths
  ['other.example!user@local.example', 'denied'],
  ['other.example!user@localhost', 'denied'],
  ['local.example!other.example!user@local.example', 'denied'],
  ['other.example!user%local.example@local.example', 'denied'],
  // source routes, both directions
  ['@local.example:user@other.example', 'denied'],
  ['@other.example:user@local.example', 'denied'],
  ['@local.example,@other.example:user@local.example', 'denied'],
  ['@LOCAL.EXAMPLE:user@local.example', 'denied'],
  // quoted local parts holding routing characters, or needing quotes at all
  ['"user@other.example"@local.example', 'denied'],
  ['"user%other.example"@local.example', 'denied'],
  ['"other.example!user"@local.example', 'denied'],
  ['"user\\@other.example"@local.example', 'denied'],
  ['"@other.example:user"@local.example', 'denied'],
  ['"user@other.example"@other.example', 'denied'],
  ['"user"@other.example', 'denied'],
  ['"user\\"@other.example"@local.example', 'denied'],
  ['"user other"@local.example', 'denied'],
  ['""@local.example', 'denied'],
  ['"user."@local.example', 'denied'],
  // backslashes outside quotes
  ['user\\@other.example@local.example', 'syntax'],
  ['user\\%other.example@local.example', 'syntax'],
  ['other.example\\!user@local.example', 'syntax'],
  // IP literals, ours or not
  ['user@[192.0.2.1]', 'denied'],
  ['user@[127.0.0.1]', 'denied'],
  ['user@[IPv6:::1]', 'denied'],
  ['user@[IPv6:::ffff:127.0.0.1]', 'denied'],
  ['user@[0.0.0.0]', 'denied'],
  ['user@127.0.0.1', 'syntax'],
  ['user@[127.1]', 'syntax'],
  ['user@[0177.0.0.1]', 'syntax'],
  ['user@[2130706433]', 'syntax'],
  ['user@[IPv6:::1%lo]', 'syntax'],
  // several "@", comments, spacing, look-alikes
  ['user@other.example@local.example', 'syntax'],
  ['user@local.example@other.example', 'syntax'],
  ['user(comment)@local.example', 'syntax'],
  ['user@local.example(comment)', 'syntax'],
  ['user@(comment)other.example', 'syntax'],
  ['user @other.example', 'syntax'],
  ['user@ local.example', 'syntax'],
  ['user@local.example other.example', 'syntax'],
  ['user@local.example\tother', 'syntax'],
  ['user@local.example\r\nRCPT TO:<x@other.example>', 'syntax'],
  ['user@local.example\u0000.other.example', 'syntax'],
  ['user@local.example..', 'syntax'],
  ['user@.local.example', 'syntax'],
  ['user@ｌｏｃａｌ.example', 'syntax'],
  ['user@local\u200b.example', 'syntax'],
  ['user@local.example:25', 'syntax'],
  ['user@local.example,other.example', 'syntax'],
  ['user@local.example;other.example', 'syntax'],
  ['user@other.example>', 'syntax'],
];

