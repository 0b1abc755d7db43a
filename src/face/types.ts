/** Shared shapes of the face pipeline. */

/** Decoded image: RGB interleaved, row-major, 8-bit. */
export type RgbImage = { data: Uint8Array; width: number; height: number };
export type Point = [number, number];
/** One detected face; landmarks in image pixels, in YuNet order: right eye, left eye, nose tip, right mouth corner, left mouth corner (subject's right = image left). */
export type Detection = { box: { x: number; y: number; w: number; h: number }; score: number; landmarks: [Point, Point, Point, Point, Point] };
