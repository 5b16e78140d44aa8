/**
 * The fixed numbers of the analysis (analysis.md §1), in a module of their own so the contract's
 * shapes can quote them in their descriptions.
 */

/** Standard gravity, in/s² (1 g = 386.09 in/s²). */
export const G_IPS2 = 386.09;

/**
 * The ZC frequency ceiling. The vendor does not compute ZC frequencies above 100 Hz at 1024 Sa/s
 * (too few samples per half cycle) and prints ">100 Hz". MiniMate Plus units record at 1024, 2048
 * or 4096 Sa/s; sfm keeps the same 100 Hz ceiling at every rate: higher rates only make figures
 * below 100 Hz more accurate, the flag keeps one meaning, and every standard curve is flat above
 * 40 Hz.
 */
export const ZC_MAX_HZ = 100;

/**
 * The FFT dominant frequency is taken over at most this many samples around the peak (32 s at
 * 1024 Sa/s, 8 s at 4096: a blast's motion fits with room to spare), so a long record costs no
 * more than a short one.
 */
export const FFT_MAX_WINDOW = 1 << 15;

/** The FFT dominant frequency is the strongest component at or above this (ground drift lies below). */
export const MIN_DOMINANT_HZ = 1;
