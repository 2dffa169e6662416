// Names that users read on the consent page ("<name> wants to access your account") are a
// security decision, so they must look like what they are. Unicode format characters (general
// category Cf: bidi overrides and isolates, zero-width spaces and joiners, the BOM, the soft
// hyphen, tag characters) are invisible or reorder the text around them, so `Goo\u202Eelgoog`
// can render as another application's name (Unicode TR 36 §2, visual spoofing). Controls,
// lone surrogates and line or paragraph separators break the text outright.
//
// The trade-off: ZWJ and ZWNJ also shape some scripts (Persian, Indic) and emoji sequences.
// A name is an identity claim shown to people deciding whether to trust it, so they are
// refused all the same; the name still takes every letter, mark, digit, symbol and space.

/** Control (Cc), format (Cf) and surrogate (Cs) characters, and line and paragraph separators (Zl, Zp). */
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u

/**
 * Why `name` cannot be an application (client) name shown to users, or `null` when it can.
 * Used wherever a name enters: host code, the management pages, the CLI and dynamic registration.
 */
export function displayNameProblem (name: string): string | null {
  const found = INVISIBLE_OR_CONTROL.exec(name)
  if (found === null) return null
  const code = (found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
  return `must not contain control or invisible formatting characters (found U+${code}; bidi overrides and zero-width characters can disguise a name)`
}

/** One piece of `revealInvisible`'s output: plain text, or the code point of a hidden character. */
export type RevealedPart = { readonly text: string } | { readonly codePoint: string }

/**
 * Splits `value` so that every control, format (bidi, zero-width), surrogate or separator
 * character can be shown as its code point (`U+202E`) instead of acting on the text around it.
 * For pages that show values nobody vetted (user ids from the host, rows written by older
 * versions) where refusing them is not an option: staff must see exactly what is stored.
 */
export function revealInvisible (value: string): RevealedPart[] {
  const parts: RevealedPart[] = []
  let text = ''
  for (const char of value) {
    if (INVISIBLE_OR_CONTROL.test(char)) {
      if (text !== '') parts.push({ text })
      text = ''
      parts.push({ codePoint: `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}` })
    } else {
      text += char
    }
  }
  if (text !== '') parts.push({ text })
  return parts
}
