/** The directory of the built web application (index.html and assets/), served by sfm serve at /. */
export declare const WEB_ROOT: string;
