(CNN)A Duke student has admitted to hanging a noose made of rope from a tree near a student union, university officials said Thursday.

The prestigious private school didn't identify the student, citing federal privacy laws. In a news release, it said the student was no longer on campus and will face student conduct review.

The student was identified during an investigation by campus police and the office of student affairs and admitted to placing the noose on the tree early Wednesday, the university said.

Officials are still trying to determine if other people were involved.

Criminal investigations into the incident are ongoing as well.

Students and faculty members marched Wednesday afternoon chanting "We are not afraid. We stand together,"  after pictures of the noose were passed around on social media.

At a forum held on the steps of Duke Chapel, close to where the noose was discovered at 2 a.m., hundreds of people gathered.

"You came here for the reason that you want to say with me, 'This is no Duke we will accept. This is no Duke we want. This is not the Duke we're here to experience. And this is not the Duke we're here to create,' " Duke President Richard Brodhead told the crowd.

The incident is one of several recent racist events to affect college students.

Last month a fraternity at the University of Oklahoma had its charter removed after a video surfaced showing members using the N-word and referring to lynching in a chant. Two students were expelled.

In February, a noose was hung around the neck of a statue of a famous civil rights figure at the University of Mississippi.

A statement issued by Duke said there was a previous report of hate speech directed at students on campus.

In the news release, the vice president for student affairs called the noose incident a "cowardly act."

"To whomever committed this hateful and stupid act, I just want to say that if your intent was to create fear, it will have the opposite effect," Larry Moneta said Wednesday.

Duke University is a private college with about 15,000 students in Durham, North Carolina.

CNN's Dave Alsup contributed to this report.

@highlight

Student is no longer on Duke University campus and will face disciplinary review

@highlight

School officials identified student during investigation and the person admitted to hanging the noose, Duke says

@highlight

The noose, made of rope, was discovered on campus about 2 a.m.