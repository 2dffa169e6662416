// Type-level checks of the settings rule table (compiled by `tsc --noEmit`, never run): every
// setting has a rule, and each rule is for exactly its setting's type.
import { SETTING_RULES, type Rule } from '../../lib/settings-rules.js'
import type { Settings } from '../../lib/settings.js'

type RulesFor<S> = { readonly [K in keyof S]-?: Rule<S[K]> }

/** What the table must be; it compiles as it is. */
export const complete: RulesFor<Settings> = SETTING_RULES

/** A setting added to `Settings` without a rule in the table does not compile. */
interface WithNewSetting extends Settings {
  readonly newSetting: number
}
// @ts-expect-error -- `newSetting` has no rule
export const missing: RulesFor<WithNewSetting> = SETTING_RULES

/** A rule for `number` is not one for `number | null` (nor the other way round), so null cannot slip past. */
// @ts-expect-error -- accessTokenExpireSeconds' rule refuses null
export const widened: Rule<number | null> = SETTING_RULES.accessTokenExpireSeconds
// @ts-expect-error -- a nullable rule is not a rule for a required number
export const narrowed: Rule<number> = SETTING_RULES.refreshTokenExpireSeconds
// @ts-expect-error -- a boolean rule is not a string rule
export const otherType: Rule<string> = SETTING_RULES.pkceRequired
