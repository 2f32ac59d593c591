(CNN)For the first time in eight years, a TV legend returned to doing what he does best.

Contestants told to "come on down!" on the April 1 edition of "The Price Is Right" encountered not host Drew Carey but another familiar face in charge of the proceedings.

Instead, there was Bob Barker, who hosted the TV game show for 35 years before stepping down in 2007.

Looking spry at 91, Barker handled the first price-guessing game of the show, the classic "Lucky Seven," before turning hosting duties over to Carey, who finished up.

Despite being away from the show for most of the past eight years, Barker didn't seem to miss a beat.

@highlight

Bob Barker returned to host "The Price Is Right" on Wednesday

@highlight

Barker, 91, had retired as host in 2007