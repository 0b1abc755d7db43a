/**
 * The biometric consent the user reads before their face is enrolled or checked (GDPR Art. 9(2)(a),
 * BIPA §15(b)): what is collected, why, how long it is kept and how to delete it. A consent record
 * names the version it was given to; changing what this says needs a new version, and the user is
 * asked again.
 */
export const CONSENT_TEXT = {
  version: '2025-01',
  title: 'Sign in with your face',
  sections: [
    {
      heading: 'What we collect',
      body:
        'While you sign in, your camera takes a few pictures of your face. From them we compute a face template: a list of numbers that describes your face. ' +
        'We store only that template, encrypted under a key of your own. The pictures are not stored: they are discarded once the check is done.',
    },
    {
      heading: 'Why',
      body:
        'Only to confirm that it is you when you sign in here, together with your device\u2019s passkey, and to check that a live person is in front of the camera. ' +
        'It is used for nothing else, and the applications you sign in to never receive it: they only learn that the check passed.',
    },
    {
      heading: 'How long we keep it',
      body:
        'Until you delete it, withdraw this consent, or your account is deleted. ' +
        'Records of when you signed in are kept for security; they contain no face data.',
    },
    {
      heading: 'How to delete it',
      body:
        'Withdraw this consent or delete your face data in your account settings: face sign-in stops at once, and the key of your template is destroyed, ' +
        'so no copy of it, backups included, can be read again. You can always sign in with your PIN or authenticator code instead.',
    },
  ],
  agree: 'I agree that my face is used this way to sign me in',
} as const;

export type ConsentText = typeof CONSENT_TEXT;
